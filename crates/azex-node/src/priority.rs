//! Thread priorities: block production first.
//!
//! The sequencer and the log writer decide the commit latency; the index and snapshots are
//! background work that can wait. On Linux the indexer and snapshot threads lower their own
//! scheduling priority (nice [`BACKGROUND_NICE`]); elsewhere this is a no-op.
//!
//! Signature recovery is *not* lowered: it is the node's throughput, and a low priority would
//! hand it to any other process on the machine. Measured (docs/benchmarks.md): with recovery at
//! nice 10 and a build running beside it, the node fell to 1,428 tx/s; at the normal priority,
//! under the same kind of load, 8,059 tx/s.

/// The nice value of background threads.
pub const BACKGROUND_NICE: i32 = 10;

/// Lower the calling thread's priority to background (it cannot be raised again without
/// privileges: call it only at the start of a thread that does background work; calling it again
/// changes nothing).
pub(crate) fn background() {
    // On Linux the nice value is per thread: `who = 0` with PRIO_PROCESS is the calling thread.
    // Never raise it (a node already started with a higher nice keeps it); a failure leaves the
    // priority as it was (nothing to report).
    #[cfg(target_os = "linux")]
    // SAFETY: getpriority and setpriority read no memory of ours.
    unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        let _ = libc::setpriority(libc::PRIO_PROCESS, 0, now.max(BACKGROUND_NICE));
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn background_lowers_only_the_calling_thread() {
        // SAFETY: getpriority reads no memory of ours.
        let nice = || unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let before = nice();
        let inside = std::thread::spawn(move || {
            super::background();
            super::background();
            nice()
        })
        .join()
        .unwrap();
        assert_eq!(inside, before.max(super::BACKGROUND_NICE));
        assert_eq!(nice(), before);
    }
}
