//! Barriers in band: the control plane injects checkpoint barriers at every source partition
//! at data-defined positions; they pass every stage, exchange and union, reach every sink
//! exactly once per worker, and where they fall among the records depends only on the data
//! (the same in every run, whatever the batch boundaries and scheduling); every stage's
//! registered state is captured, and a job restored from a checkpoint goes on exactly as the
//! uninterrupted run did after that barrier.

use lute_runtime::api::{self, Plan};
use lute_runtime::control::Checkpoint;
use lute_runtime::operator::EventTime;
use lute_runtime::{
    CheckpointId, Config, Context, Emit, Operator, OperatorError, VecSource, WatermarkStrategy,
};
use lute_window::ops::Sum;
use lute_window::window::SlidingSpec;
use std::sync::{Arc, Mutex};

type Logs = Arc<Mutex<Vec<Vec<String>>>>;

/// A sink that logs, per worker, every record and barrier in the order it sees them.
#[derive(Clone)]
struct Log {
    logs: Logs,
    worker: usize,
    mine: Vec<String>,
}

impl<T: std::fmt::Debug + Send + 'static> Operator<T> for Log {
    type Out = ();
    fn open(&mut self, ctx: &Context) -> Result<(), OperatorError> {
        self.worker = ctx.worker;
        Ok(())
    }
    fn process<E: Emit<()>>(
        &mut self,
        ts: EventTime,
        x: T,
        _: &mut E,
    ) -> Result<(), OperatorError> {
        self.mine.push(format!("{ts}:{x:?}"));
        Ok(())
    }
    fn on_barrier<E: Emit<()>>(&mut self, n: CheckpointId, _: &mut E) -> Result<(), OperatorError> {
        self.mine.push(format!("barrier {n}"));
        Ok(())
    }
    fn close<E: Emit<()>>(&mut self, _: &mut E) -> Result<(), OperatorError> {
        let mut logs = self.logs.lock().unwrap();
        if logs.len() <= self.worker {
            logs.resize(self.worker + 1, Vec::new());
        }
        logs[self.worker] = std::mem::take(&mut self.mine);
        Ok(())
    }
}

fn events(n: i64, seed: u64) -> Vec<(EventTime, (u32, i64))> {
    let mut s = seed;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Out of order by up to 8 (the watermark delay).
            (i + (s % 8) as i64, ((s >> 8) % 13) as u32, (s % 100) as i64)
        })
        .map(|(t, k, v)| (t, (k, v)))
        .collect()
}

fn wm() -> WatermarkStrategy {
    WatermarkStrategy {
        delay: 8,
        every: 16,
    }
}

/// Two sources, a union, a key exchange, a window, another exchange, the logging sink.
fn job(logs: &Logs) -> Plan {
    let b = api::source("b", VecSource::new(events(4_000, 2)), wm());
    api::source("a", VecSource::new(events(4_000, 1)), wm())
        .union("a + b", b)
        .key_by("by key", |e: &(u32, i64)| e.0)
        .window(
            "sum",
            |e: (u32, i64)| e.1,
            &[SlidingSpec::tumbling(50)],
            Sum,
        )
        .unwrap()
        .map("flat", |(k, r)| (k, r.start, r.value))
        .key_by("by start", |r: &(u32, i64, i64)| r.1)
        .sink(
            "log",
            Log {
                logs: logs.clone(),
                worker: 0,
                mine: Vec::new(),
            },
        )
}

fn run(config: &Config) -> Vec<Vec<String>> {
    let logs: Logs = Arc::default();
    job(&logs).run(config).unwrap();
    std::mem::take(&mut *logs.lock().unwrap())
}

fn barriers(log: &[String]) -> Vec<&str> {
    log.iter()
        .filter(|l| l.starts_with("barrier"))
        .map(String::as_str)
        .collect()
}

#[test]
fn barriers_reach_every_sink_once_per_worker_where_the_data_puts_them() {
    for w in [1, 2, 4] {
        let base = Config::default().workers(w).checkpoint_every(300);
        let want = run(&base.clone().batch_size(64));
        assert_eq!(want.len(), w);
        // Each partition of each source has 4000 / w records: barriers 1..=that / 300.
        let count = (4_000 / w as u64 / 300) as usize;
        assert!(count >= 3, "{w} workers");
        for log in &want {
            let expect: Vec<String> = (1..=count).map(|k| format!("barrier {k}")).collect();
            assert_eq!(
                barriers(log),
                expect,
                "{w} workers: each barrier once, in order"
            );
        }
        // The same sequences whatever the batch boundaries, rings and scheduling.
        for (batch, cap, seed) in [(7, 8, 1), (256, 64, 2), (3, 16, 3)] {
            let c = base
                .clone()
                .batch_size(batch)
                .channel_capacity(cap)
                .perturb(seed);
            assert_eq!(run(&c), want, "{w} workers, batch {batch}");
        }
    }
}

#[test]
fn without_checkpoints_no_barrier_is_seen() {
    let logs = run(&Config::default().workers(2));
    assert!(logs.iter().all(|l| barriers(l).is_empty()));
}

#[test]
fn checkpoints_complete_with_every_stage_state_and_restore_resumes_exactly() {
    let w = 2;
    let cps: Arc<Mutex<Vec<Checkpoint>>> = Arc::default();
    let seen = cps.clone();
    let progress = Arc::new(Mutex::new(None));
    let p2 = progress.clone();
    let config = Config::default()
        .workers(w)
        .checkpoint_every(300)
        .on_checkpoint(move |cp| seen.lock().unwrap().push(cp.clone()))
        .on_progress(move |p| *p2.lock().unwrap() = Some(p.clone()));
    let full = run(&config);
    let cps = cps.lock().unwrap().clone();
    let ids: Vec<u64> = cps.iter().map(|c| c.id.0).collect();
    // 2000 records per partition: checkpoints 1..=6 all complete.
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    let done = progress.lock().unwrap().clone().unwrap();
    assert!(done.done);
    assert_eq!(done.checkpoints, 6);
    assert_eq!(done.stage("a").unwrap().barriers, 6 * w as u64);
    for cp in &cps {
        // Every stage of every worker: sources a and b, the union, the two exchanges.
        assert_eq!(cp.states.len(), 5 * w, "checkpoint {}", cp.id);
        let window_keys = cp.states.iter().filter(|(_, _, st)| {
            st.operators()
                .any(|(id, n)| n == "sum" && st.get::<u64>(id, "late").is_some())
        });
        assert_eq!(window_keys.count(), w, "the window's state on every worker");
    }
    // The window's keyed state and the sources' positions are among the captured pieces.
    let cp = &cps[2];
    let positions: Vec<u64> = cp
        .states
        .iter()
        .flat_map(|(_, _, st)| {
            st.operators()
                .filter(|(_, n)| *n == "a" || *n == "b")
                .map(|(id, _)| *st.get::<u64>(id, "position").unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(positions, [900; 4]);
    // Restored from checkpoint 3, each worker's sink sees exactly what it saw after barrier 3.
    let logs: Logs = Arc::default();
    job(&logs)
        .run_restored(
            &Config::default().workers(w).checkpoint_every(300),
            cp.clone(),
        )
        .unwrap();
    let restored = logs.lock().unwrap().clone();
    for (wk, (full, restored)) in full.iter().zip(&restored).enumerate() {
        let at = full.iter().position(|l| l == "barrier 3").unwrap();
        assert_eq!(&full[at + 1..], &restored[..], "worker {wk}");
    }
}
