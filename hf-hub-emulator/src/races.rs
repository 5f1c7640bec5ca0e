//! Pushes that lose a race, on purpose ([`crate::Emulator::script_push_races`]): for the next
//! `n` pushes to a Space, just before `git http-backend` takes the push, another writer commits
//! to `main` (a real commit in the bare repository, with a file of its own), so receive-pack
//! itself refuses the push (its `main` is no longer the commit the client built on), exactly as a
//! concurrent writer on the Hub would make it.

use std::sync::Arc;

use crate::auth::Caller;
use crate::git::{self, Change};
use crate::hub::{Hub, Space, can_write};

/// The author of the other writer's commits (name; the email is `{name}@users.noreply…`).
pub(crate) const OTHER_WRITER: &str = "other-writer";

/// Before a push to `space` by `caller`: when a race is scripted, land another writer's commit
/// on `main` first (and announce it as a new revision, as any commit is). A push that cannot
/// write (no caller, a read token) takes no race: it is refused anyway.
pub(crate) async fn before_push(hub: &Arc<Hub>, space: &Arc<Space>, caller: Option<&Caller>) {
    if !can_write(&space.ns, caller) {
        return;
    }
    let number = {
        let mut state = space.lock();
        if state.push_races == 0 {
            return;
        }
        state.push_races -= 1;
        state.races_played += 1;
        state.races_played
    };
    let landed = {
        let _guard = hub.write_lock.lock().await;
        let head = git::rev_parse(hub, &space.repo_dir, "refs/heads/main").await;
        let change = Change::Put {
            path: format!("{OTHER_WRITER}/{number}.txt"),
            data: format!("commit {number} of another writer\n").into_bytes(),
        };
        git::commit_changes(
            hub,
            &space.repo_dir,
            head.as_deref(),
            &[change],
            &format!("Another writer's commit {number}"),
            OTHER_WRITER,
        )
        .await
    };
    match landed {
        Ok(_) => hub.new_revision(space),
        Err(_) => tracing::warn!(space = %space.id, "the scripted other writer could not commit"),
    }
}
