//! Shared harness of the loom models.
//!
//! `check(name, model)` runs `model` under `loom::model`. Built with `--cfg lute_weaken`, the
//! crate's orderings are deliberately broken, and the model must *fail*. A loom failure often
//! panics inside a destructor and aborts the process, which `#[should_panic]` cannot observe,
//! so the weakened check re-runs this very test in a child process and asserts that the child
//! failed with a panic (a loom causality violation, a deadlock, or a wrong result).

use std::process::Command;

const CHILD: &str = "LUTE_LOOM_CHILD";

/// Runs a loom model, or under `--cfg lute_weaken` asserts that loom catches the weakening.
#[allow(dead_code)]
pub fn check(name: &str, model: fn()) {
    if cfg!(not(lute_weaken)) || std::env::var_os(CHILD).is_some() {
        loom::model(model);
        return;
    }
    let out = Command::new(std::env::current_exe().expect("test binary path"))
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("re-run the test binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "loom did NOT catch the weakened memory order in model `{name}`"
    );
    assert!(
        stderr.contains("panicked"),
        "model `{name}` failed without a loom panic: {stderr}"
    );
    let why = ["Causality violation", "deadlock", "assertion"]
        .into_iter()
        .find(|m| stderr.contains(m))
        .unwrap_or("panic");
    eprintln!("model `{name}`: weakened variant caught by loom ({why})");
}
