//! The fault matrix's printed form (call × fault → outcome), one format for all its rows
//! (`tests/it/faults.rs`, `tests/it/engine_faults.rs`).

/// What one cell of the matrix ended with.
pub struct Cell {
    /// The remote call faulted.
    pub call: &'static str,
    /// The fault's name.
    pub fault: String,
    /// What happened (`Ok`), or why the cell failed (`Err`).
    pub outcome: Result<String, String>,
}

/// Prints `cells` to stderr under `title`, one row each (`BAD: …` for a failed cell), and
/// returns the failed cells as `call × fault: why`.
pub fn print(title: &str, cells: &[Cell]) -> Vec<String> {
    eprintln!("\n{title}:");
    eprintln!("{:<20} | {:<20} | outcome", "call", "fault");
    for cell in cells {
        let shown = match &cell.outcome {
            Ok(text) => text.clone(),
            Err(text) => format!("BAD: {text}"),
        };
        eprintln!("{:<20} | {:<20} | {shown}", cell.call, cell.fault);
    }
    cells
        .iter()
        .filter_map(|c| {
            c.outcome
                .as_ref()
                .err()
                .map(|e| format!("{} × {}: {e}", c.call, c.fault))
        })
        .collect()
}
