//! The typed job builder.
//!
//! A job is a source, a chain of operators, optionally a key exchange followed by a second
//! chain, and a sink:
//!
//! ```text
//! source ─ map/filter/flat_map/... ─┬─────────────────────────────────────── sink
//!                                   └─ key_by ═(exchange)═ window/map/... ── sink
//! ```
//!
//! Every worker runs every stage on its share of the data (its source partition; after the
//! exchange, the keys that hash to it). Types are checked by the compiler: an operator whose
//! input type does not match its upstream's output, or a cycle, cannot be expressed.

use crate::config::Config;
use crate::error::{BuildError, JobError, OperatorError};
use crate::exchange::{ExchangeReceiver, ExchangeSender};
use crate::operator::{EventTime, Filter, FlatMap, Identity, Map, Named, Operator, Then, TryMap};
use crate::sink::{CallbackSink, CollectSink, Slots, Terminal};
use crate::source::{Source, WatermarkStrategy};
use crate::stage::{ExchangeStage, SourceStage, Stage};
use crate::window_op::{LatePolicy, Sessions, WindowOp};
use lute_window::window::{SessionWindows, SlidingSpec, SlidingWindows};
use lute_window::{Lift, Monoid};
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// Names of a job's operators, indexed by operator id.
#[derive(Debug, Clone, Default)]
struct Names(Vec<Arc<str>>);

impl Names {
    fn add(&mut self, name: &str) -> (u32, Arc<str>) {
        let n: Arc<str> = Arc::from(name);
        self.0.push(n.clone());
        ((self.0.len() - 1) as u32, n)
    }

    fn named<O>(&mut self, name: &str, op: O) -> Named<O> {
        let (id, name) = self.add(name);
        Named { id, name, op }
    }
}

/// Starts a job from a source.
///
/// # Examples
///
/// ```
/// use lute_runtime::{Config, VecSource, WatermarkStrategy, job};
/// let out = job::source("numbers", VecSource::new((0..10).map(|i| (i, i)).collect()), WatermarkStrategy::default())
///     .map("double", |x: i64| x * 2)
///     .filter("big", |x: &i64| *x >= 10)
///     .collect()
///     .run(&Config::default().workers(2))
///     .unwrap();
/// let values: Vec<i64> = out.iter().map(|(_, v)| *v).collect();
/// assert_eq!(values, vec![10, 12, 14, 16, 18]);
/// ```
pub fn source<S: Source>(
    name: &str,
    source: S,
    watermarks: WatermarkStrategy,
) -> Stream<S, Named<Identity>> {
    let mut names = Names::default();
    let chain = names.named(name, Identity);
    Stream {
        names,
        source,
        watermarks,
        chain,
    }
}

/// A stream on the source side of a job: a source and a fused operator chain.
pub struct Stream<S, C> {
    names: Names,
    source: S,
    watermarks: WatermarkStrategy,
    chain: C,
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C> {
    /// Appends a user-defined operator.
    pub fn apply<O: Operator<C::Out>>(mut self, name: &str, op: O) -> Stream<S, Then<C, Named<O>>> {
        let op = self.names.named(name, op);
        Stream {
            names: self.names,
            source: self.source,
            watermarks: self.watermarks,
            chain: Then {
                a: self.chain,
                b: op,
            },
        }
    }

    /// One output per input.
    pub fn map<U, F>(self, name: &str, f: F) -> Stream<S, Then<C, Named<Map<F>>>>
    where
        F: FnMut(C::Out) -> U + Clone + Send + 'static,
    {
        self.apply(name, Map(f))
    }

    /// A fallible map: an `Err` fails the job with this operator's name.
    pub fn try_map<U, F>(self, name: &str, f: F) -> Stream<S, Then<C, Named<TryMap<F>>>>
    where
        F: FnMut(C::Out) -> Result<U, OperatorError> + Clone + Send + 'static,
    {
        self.apply(name, TryMap(f))
    }

    /// Keeps records for which `f` holds.
    pub fn filter<F>(self, name: &str, f: F) -> Stream<S, Then<C, Named<Filter<F>>>>
    where
        F: FnMut(&C::Out) -> bool + Clone + Send + 'static,
    {
        self.apply(name, Filter(f))
    }

    /// Zero or more outputs per input.
    pub fn flat_map<I, F>(self, name: &str, f: F) -> Stream<S, Then<C, Named<FlatMap<F>>>>
    where
        F: FnMut(C::Out) -> I + Clone + Send + 'static,
        I: IntoIterator,
    {
        self.apply(name, FlatMap(f))
    }

    /// Exchanges records between workers by a hash of `key`, so that all records of a key
    /// meet on one worker.
    pub fn key_by<K, KF>(mut self, name: &str, key: KF) -> Keyed<S, C, KF, Named<Identity>>
    where
        K: Hash,
        KF: FnMut(&C::Out) -> K + Clone + Send + 'static,
    {
        let exchange_at = self.names.0.len();
        let chain = self.names.named(name, Identity);
        Keyed {
            up: self,
            key,
            chain,
            exchange_at,
        }
    }

    /// Ends the job in a sink operator.
    pub fn sink<O: Operator<C::Out, Out = ()>>(self, name: &str, op: O) -> Plan {
        let s = self.apply(name, op);
        let names = Arc::new(s.names.0);
        let names0 = names[0].clone();
        let (source, chain, wm) = (s.source, s.chain, s.watermarks);
        Plan {
            names,
            exchange_at: None,
            watermarks: wm,
            build: Box::new(move |config: &Config| {
                Ok((0..config.workers)
                    .map(|_| {
                        let st: Box<dyn Stage> = Box::new(SourceStage::new(
                            names0.clone(),
                            source.clone(),
                            chain.clone(),
                            Terminal,
                            wm,
                        ));
                        vec![st]
                    })
                    .collect())
            }),
        }
    }

    /// Ends the job in a callback called for every record.
    pub fn for_each<F>(self, name: &str, f: F) -> Plan
    where
        F: FnMut(EventTime, C::Out) -> Result<(), OperatorError> + Clone + Send + 'static,
    {
        self.sink(name, CallbackSink(f))
    }

    /// Collects the output (see [`Collect`]).
    pub fn collect(self) -> Collect<C::Out>
    where
        C::Out: Send + 'static,
    {
        collect_with(|sink| self.sink("collect", sink))
    }
}

/// A keyed stream after an exchange: a second fused chain on the receiving workers.
pub struct Keyed<S, C, KF, C2> {
    up: Stream<S, C>,
    key: KF,
    chain: C2,
    exchange_at: usize,
}

impl<S, C, K, KF, C2> Keyed<S, C, KF, C2>
where
    S: Source,
    C: Operator<S::Item>,
    C::Out: Send + 'static,
    K: Hash,
    KF: FnMut(&C::Out) -> K + Clone + Send + 'static,
    C2: Operator<C::Out>,
{
    /// Appends a user-defined operator after the exchange.
    pub fn apply<O: Operator<C2::Out>>(
        mut self,
        name: &str,
        op: O,
    ) -> Keyed<S, C, KF, Then<C2, Named<O>>> {
        let op = self.up.names.named(name, op);
        Keyed {
            up: self.up,
            key: self.key,
            chain: Then {
                a: self.chain,
                b: op,
            },
            exchange_at: self.exchange_at,
        }
    }

    /// One output per input.
    pub fn map<U, F>(self, name: &str, f: F) -> Keyed<S, C, KF, Then<C2, Named<Map<F>>>>
    where
        F: FnMut(C2::Out) -> U + Clone + Send + 'static,
    {
        self.apply(name, Map(f))
    }

    /// Keeps records for which `f` holds.
    pub fn filter<F>(self, name: &str, f: F) -> Keyed<S, C, KF, Then<C2, Named<Filter<F>>>>
    where
        F: FnMut(&C2::Out) -> bool + Clone + Send + 'static,
    {
        self.apply(name, Filter(f))
    }

    /// Zero or more outputs per input.
    pub fn flat_map<I, F>(self, name: &str, f: F) -> Keyed<S, C, KF, Then<C2, Named<FlatMap<F>>>>
    where
        F: FnMut(C2::Out) -> I + Clone + Send + 'static,
        I: IntoIterator,
    {
        self.apply(name, FlatMap(f))
    }

    /// Per key (by `key`), tumbling or sliding event-time windows over `specs`, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes each
    /// window's end. Late events are dropped and counted.
    ///
    /// # Errors
    /// [`BuildError::Window`] for an empty or non-positive window specification.
    #[allow(clippy::type_complexity)]
    pub fn window<WK, WKF, V, VF, M>(
        self,
        name: &str,
        key: WKF,
        value: VF,
        specs: &[SlidingSpec],
        op: M,
    ) -> Result<
        Keyed<S, C, KF, Then<C2, Named<WindowOp<WK, WKF, VF, SlidingWindows<M>>>>>,
        BuildError,
    >
    where
        WK: Ord + Hash + Clone + Send + 'static,
        WKF: FnMut(&C2::Out) -> WK + Clone + Send + 'static,
        VF: FnMut(C2::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        let windows = SlidingWindows::new(op, specs)?;
        Ok(self.apply(
            name,
            WindowOp::new(key, value, windows, LatePolicy::DropAndCount),
        ))
    }

    /// Per key, session windows closed after `gap` time units without events, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes a
    /// session's end. Late events are dropped and counted.
    ///
    /// # Errors
    /// [`BuildError::Zero`] if `gap` is not positive.
    #[allow(clippy::type_complexity)]
    pub fn session_window<WK, WKF, V, VF, M>(
        self,
        name: &str,
        key: WKF,
        value: VF,
        gap: EventTime,
        op: M,
    ) -> Result<Keyed<S, C, KF, Then<C2, Named<WindowOp<WK, WKF, VF, Sessions<M>>>>>, BuildError>
    where
        WK: Ord + Hash + Clone + Send + 'static,
        WKF: FnMut(&C2::Out) -> WK + Clone + Send + 'static,
        VF: FnMut(C2::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        if gap <= 0 {
            return Err(BuildError::Zero {
                what: "session gap",
            });
        }
        let state = Sessions {
            state: SessionWindows::new(op.clone(), gap),
            op,
        };
        Ok(self.apply(
            name,
            WindowOp::new(key, value, state, LatePolicy::DropAndCount),
        ))
    }

    /// Ends the job in a sink operator.
    pub fn sink<O: Operator<C2::Out, Out = ()>>(self, name: &str, op: O) -> Plan {
        let k = self.apply(name, op);
        let names = Arc::new(k.up.names.0);
        let names0 = names[0].clone();
        let exchange_at = Some(k.exchange_at);
        let (source, chain, wm, key, chain2) =
            (k.up.source, k.up.chain, k.up.watermarks, k.key, k.chain);
        Plan {
            names,
            exchange_at,
            watermarks: wm,
            build: Box::new(move |config: &Config| {
                let n = config.workers;
                if n == 1 {
                    // One worker: every key routes to it, so the exchange is the identity and
                    // the planner fuses both chains into one stage (no ring, no batches). The
                    // record, watermark and end sequence the second chain sees is the same.
                    let fused = Then {
                        a: chain.clone(),
                        b: chain2.clone(),
                    };
                    let st: Box<dyn Stage> = Box::new(SourceStage::new(
                        names0.clone(),
                        source.clone(),
                        fused,
                        Terminal,
                        wm,
                    ));
                    return Ok(vec![vec![st]]);
                }
                // rings[from][to]
                let mut producers: Vec<Vec<_>> = (0..n).map(|_| Vec::with_capacity(n)).collect();
                let mut consumers: Vec<Vec<_>> = (0..n).map(|_| Vec::with_capacity(n)).collect();
                for p in producers.iter_mut() {
                    for c in consumers.iter_mut() {
                        let (tx, rx) = lute_sync::spsc::channel(config.channel_capacity)?;
                        p.push(tx);
                        c.push(rx);
                    }
                }
                let mut out = Vec::with_capacity(n);
                for (rings_out, rings_in) in producers.into_iter().zip(consumers) {
                    let sender = ExchangeSender::new(
                        key.clone(),
                        rings_out,
                        config.batch_size,
                        config.channel_capacity,
                        config.flush_deadline,
                    )?;
                    let a: Box<dyn Stage> = Box::new(SourceStage::new(
                        names0.clone(),
                        source.clone(),
                        chain.clone(),
                        sender,
                        wm,
                    ));
                    let b: Box<dyn Stage> = Box::new(ExchangeStage {
                        rx: ExchangeReceiver::new(rings_in),
                        chain: chain2.clone(),
                        done: false,
                    });
                    out.push(vec![a, b]);
                }
                Ok(out)
            }),
        }
    }

    /// Ends the job in a callback called for every record.
    pub fn for_each<F>(self, name: &str, f: F) -> Plan
    where
        F: FnMut(EventTime, C2::Out) -> Result<(), OperatorError> + Clone + Send + 'static,
    {
        self.sink(name, CallbackSink(f))
    }

    /// Collects the output (see [`Collect`]).
    pub fn collect(self) -> Collect<C2::Out>
    where
        C2::Out: Send + 'static,
    {
        collect_with(|sink| self.sink("collect", sink))
    }
}

type BuildFn = dyn Fn(&Config) -> Result<Vec<Vec<Box<dyn Stage>>>, BuildError> + Send;

/// A complete job, ready to run.
pub struct Plan {
    names: Arc<Vec<Arc<str>>>,
    /// Index in `names` of the key exchange, if any.
    exchange_at: Option<usize>,
    watermarks: WatermarkStrategy,
    build: Box<BuildFn>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("operators", &self.names)
            .finish()
    }
}

impl Plan {
    /// Operator names, in the order they were added.
    pub fn operators(&self) -> Vec<String> {
        self.names.iter().map(|n| n.to_string()).collect()
    }

    /// The physical plan for `config`: stages, each edge's tier, and why.
    ///
    /// # Examples
    ///
    /// ```
    /// use lute_runtime::{Config, VecSource, WatermarkStrategy, job};
    /// let plan = job::source("in", VecSource::new(vec![(0, 1u64)]), WatermarkStrategy::default())
    ///     .map("inc", |x: u64| x + 1)
    ///     .key_by("by value", |x: &u64| *x)
    ///     .for_each("out", |_, _| Ok(()));
    /// let text = plan.explain(&Config::default().workers(2));
    /// assert!(text.contains("exchange `by value`"));
    /// assert!(text.contains("L4"));
    /// ```
    pub fn explain(&self, config: &Config) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let n = config.workers;
        let _ = writeln!(
            s,
            "plan: {n} worker(s), {:?} pinning, batches of {} records, rings of {} slots, \
             flush deadline {:?}, step budget {} records",
            config.pinning,
            config.batch_size,
            config.channel_capacity,
            config.flush_deadline,
            config.step_budget
        );
        let chain = |s: &mut String, names: &[Arc<str>]| {
            let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            let _ = writeln!(
                s,
                "    {}  [L4: fused, one monomorphized function, no virtual call per record]",
                list.join(" -> ")
            );
        };
        let _ = writeln!(
            s,
            "stage A on every worker  [L3: one dynamic call per step of up to {} records]",
            config.step_budget
        );
        let _ = writeln!(
            s,
            "    source `{}`: partition w of {n}; watermark = max event time - {} every {} records",
            self.names[0], self.watermarks.delay, self.watermarks.every
        );
        match self.exchange_at {
            None => chain(&mut s, &self.names[1..]),
            Some(x) if n == 1 => {
                chain(&mut s, &self.names[1..x]);
                let _ = writeln!(
                    s,
                    "    exchange `{}` fused away: with 1 worker every key is local",
                    self.names[x]
                );
                chain(&mut s, &self.names[x + 1..]);
            }
            Some(x) => {
                chain(&mut s, &self.names[1..x]);
                let _ = writeln!(
                    s,
                    "    exchange `{}`: hash of the key -> {n}x{n} SPSC rings of pooled batches \
                     ({} batches per worker), flushed when full, on a watermark or at the deadline",
                    self.names[x],
                    n * (config.channel_capacity + 4)
                );
                let _ = writeln!(
                    s,
                    "stage B on every worker  [L3: one dynamic call per step]\n    merge of {n} \
                     inputs by (event time, kind, input): the order is defined by the data"
                );
                chain(&mut s, &self.names[x + 1..]);
            }
        }
        s
    }

    /// Runs the job on `config.workers` workers and waits for it to finish.
    ///
    /// # Errors
    /// [`JobError::Build`] for a bad configuration (before any thread starts); otherwise the
    /// first operator error or panic, after every thread was joined.
    pub fn run(&self, config: &Config) -> Result<(), JobError> {
        config.validate()?;
        let stages = (self.build)(config)?;
        crate::worker::run(config, self.names.clone(), stages)
    }
}

/// A job that collects its output; [`Collect::run`] returns it.
pub struct Collect<T> {
    plan: Plan,
    slots: Slots<T>,
}

fn collect_with<T: Send + 'static>(make: impl FnOnce(CollectSink<T>) -> Plan) -> Collect<T> {
    let slots = Arc::new(Mutex::new(Vec::new()));
    let plan = make(CollectSink::new(slots.clone()));
    Collect { plan, slots }
}

impl<T> Collect<T> {
    fn take(&self, config: &Config) -> Result<Vec<Vec<(EventTime, T)>>, JobError> {
        {
            let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            s.clear();
            s.resize_with(config.workers, Vec::new);
        }
        self.plan.run(config)?;
        let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *s))
    }

    /// Runs the job; returns every output record with its event time, ordered by event time
    /// (records with equal times in worker order, then output order).
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn run(&self, config: &Config) -> Result<Vec<(EventTime, T)>, JobError> {
        let mut all: Vec<(EventTime, T)> = self.take(config)?.into_iter().flatten().collect();
        all.sort_by_key(|(t, _)| *t);
        Ok(all)
    }

    /// Runs the job; returns the output in a canonical order (event time, then record), the
    /// same whatever the number of workers.
    ///
    /// # Errors
    /// As [`Plan::run`].
    pub fn run_sorted(&self, config: &Config) -> Result<Vec<(EventTime, T)>, JobError>
    where
        T: Ord,
    {
        let mut all: Vec<(EventTime, T)> = self.take(config)?.into_iter().flatten().collect();
        all.sort();
        Ok(all)
    }

    /// Operator names, in the order they were added.
    pub fn operators(&self) -> Vec<String> {
        self.plan.operators()
    }

    /// The physical plan (see [`Plan::explain`]).
    pub fn explain(&self, config: &Config) -> String {
        self.plan.explain(config)
    }
}
