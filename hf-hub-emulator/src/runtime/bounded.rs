//! Outside programs that cannot hang the stand-in: each runs in a process group of its own under
//! a deadline; at the deadline, or when the caller stops waiting (its future dropped), the whole
//! group is killed, a child that holds the pipes open (a CLI plugin, a pip subprocess) included.

use std::io::Read;
use std::process::{Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Kills a whole process group when dropped (uvicorn workers, pip's children, a `docker` CLI
/// plugin...), unless disarmed once the program ended by itself.
pub(super) struct GroupGuard(pub(super) Option<u32>);

impl GroupGuard {
    /// The program ended by itself: nothing to kill.
    pub(super) fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0 {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Why a bounded program gave no output.
#[derive(Debug)]
pub(super) enum Failure {
    /// It could not be started (or waited for).
    Start(std::io::Error),
    /// It was still running at its deadline: killed, with its group.
    TimedOut(Duration),
}

impl Failure {
    /// `what` (the program, as the log names it) and why it gave nothing.
    pub(super) fn describe(&self, what: &str) -> String {
        match self {
            Failure::Start(e) => format!("cannot run `{what}`: {e}"),
            Failure::TimedOut(deadline) => format!(
                "`{what}` got no answer within {}s (killed)",
                deadline.as_secs_f32()
            ),
        }
    }
}

/// Starts `cmd` in a process group of its own, killed (the group with it) when the pair is
/// dropped: for a program that runs as long as what it watches (`docker logs -f`, `docker wait`,
/// `docker build`), whose caller bounds the wait.
pub(super) fn spawn_in_group(
    cmd: &mut tokio::process::Command,
) -> std::io::Result<(tokio::process::Child, GroupGuard)> {
    cmd.stdin(Stdio::null()).kill_on_drop(true).process_group(0);
    let child = cmd.spawn()?;
    let guard = GroupGuard(child.id());
    Ok((child, guard))
}

/// Runs `cmd` to its end, its stdout and stderr captured, within `deadline`.
pub(super) async fn output_within(
    cmd: &mut tokio::process::Command,
    deadline: Duration,
) -> Result<Output, Failure> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    let child = cmd.spawn().map_err(Failure::Start)?;
    let guard = GroupGuard(child.id());
    match tokio::time::timeout(deadline, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            guard.disarm();
            Ok(out)
        }
        Ok(Err(e)) => Err(Failure::Start(e)),
        Err(_) => Err(Failure::TimedOut(deadline)),
    }
}

/// [`output_within`] for a thread that may not wait on the runtime (`Drop`, shutdown).
pub(super) fn output_within_blocking(
    cmd: &mut std::process::Command,
    deadline: Duration,
) -> Result<Output, Failure> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let until = Instant::now() + deadline;
    let mut child = cmd.spawn().map_err(Failure::Start)?;
    let guard = GroupGuard(Some(child.id()));
    let (tx, rx) = mpsc::channel();
    let readers: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
    ];
    for (index, reader) in readers.into_iter().enumerate() {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut reader) = reader {
                let _ = reader.read_to_end(&mut bytes);
            }
            let _ = tx.send((index, bytes));
        });
    }
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                drop(guard);
                let _ = child.kill();
                let _ = child.wait();
                return Err(Failure::TimedOut(deadline));
            }
            Err(e) => return Err(Failure::Start(e)),
        }
    };
    let mut pipes = [Vec::new(), Vec::new()];
    for _ in 0..2 {
        let left = until
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(100));
        match rx.recv_timeout(left) {
            Ok((index, bytes)) => pipes[index] = bytes,
            // Something of its group still holds a pipe open: end it.
            Err(_) => return Err(Failure::TimedOut(deadline)),
        }
    }
    guard.disarm();
    let [stdout, stderr] = pipes;
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_program_past_its_deadline_is_killed_with_its_group() {
        let started = Instant::now();
        let mut cmd = tokio::process::Command::new("sh");
        // The grandchild holds stdout open: waiting for the pipes alone would never end.
        cmd.args(["-c", "sleep 30 & echo started; sleep 30"]);
        let failure = output_within(&mut cmd, Duration::from_millis(300))
            .await
            .expect_err("killed at its deadline");
        assert!(matches!(failure, Failure::TimedOut(_)), "{failure:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(failure.describe("sh").contains("no answer within 0.3s"));
    }

    #[test]
    fn the_blocking_form_kills_at_its_deadline_and_returns_what_ended_in_time() {
        let started = Instant::now();
        let mut slow = std::process::Command::new("sh");
        slow.args(["-c", "sleep 30 & sleep 30"]);
        let failure = output_within_blocking(&mut slow, Duration::from_millis(300))
            .expect_err("killed at its deadline");
        assert!(matches!(failure, Failure::TimedOut(_)), "{failure:?}");
        assert!(started.elapsed() < Duration::from_secs(5));

        let mut quick = std::process::Command::new("sh");
        quick.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = output_within_blocking(&mut quick, Duration::from_secs(10)).expect("ends");
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }
}
