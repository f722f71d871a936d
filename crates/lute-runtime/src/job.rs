//! The typed job builder.
//!
//! A job is a tree of pipelines ending in a sink. A [`Stream`] is a source and a fused chain of
//! operators; an exchange ([`Stream::key_by`], [`Stream::union`], [`Stream::window_join`], and
//! the same on [`Keyed`]) starts a [`Keyed`] stream: a merge of its inputs followed by another
//! fused chain, which can itself feed a further exchange:
//!
//! ```text
//! source ─ map/filter/... ─┬──────────────────────────────────────────── sink
//!                          └─ key_by ═(exchange)═ window/map/... ─┬───── sink
//! source ─ map/... ─ union/join ═(exchange)═╝                     └─ key_by ═ ... ─ sink
//! ```
//!
//! Every worker runs every stage on its share of the data (its source partitions; after a
//! hash exchange, the keys that hash to it; after a `union`, what its own upstream stages
//! produced). Types are checked by the compiler: an operator whose input type does not match
//! its upstream's output, or a cycle, cannot be expressed.
//!
//! # Tiers
//!
//! Within a chain, operators are fused into one monomorphized function (tier L4). Each stage
//! (a source with its chain, or a merge with its chain) is type-erased behind a `Box<dyn
//! Stage>` (tier L3: one dynamic call per step of up to `step_budget` records). With one
//! worker, a pipeline whose exchanges have a single input is fused into a single stage (every
//! key is local, so the exchange is the identity).

use crate::config::Config;
use crate::error::{BuildError, JobError, OperatorError};
use crate::exchange::{ByKey, ExchangeReceiver, ExchangeSender, Forward, Message, Partition};
use crate::join::{Side, WindowJoin};
use crate::operator::{
    EventTime, Filter, FlatMap, Identity, Map, Metrics, Named, Operator, Then, TryMap,
};
use crate::sink::{CallbackSink, CollectSink, FileSink, Slots, Terminal};
use crate::source::{Source, WatermarkStrategy};
use crate::stage::{Downstream, ExchangeStage, SourceStage, Stage};
use crate::window_op::{DropLate, EmitLate, Sessions, WindowOp};
use lute_sync::spsc;
use lute_window::window::{SessionWindows, SlidingSpec, SlidingWindows};
use lute_window::{Lift, Monoid};
use std::fmt::Write as _;
use std::hash::Hash;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Operator ids are unique in the process, so pipelines built separately can be combined
/// (union, join) without renumbering the ids baked into their operators.
static NEXT_OP: AtomicU32 = AtomicU32::new(0);

/// `(id, name)` of every operator of a pipeline.
#[derive(Debug, Clone, Default)]
#[doc(hidden)]
pub struct Names(Vec<(u32, Arc<str>)>);

impl Names {
    fn named<O>(&mut self, name: &str, op: O) -> Named<O> {
        // Relaxed: the counter only has to hand out distinct values; nothing is published
        // through it.
        let id = NEXT_OP.fetch_add(1, Ordering::Relaxed);
        let name: Arc<str> = Arc::from(name);
        self.0.push((id, name.clone()));
        Named { id, name, op }
    }

    fn join(mut self, other: &Names) -> Self {
        self.0.extend(other.0.iter().cloned());
        self
    }
}

/// Per worker: its stages.
type Stages = Vec<Vec<Box<dyn Stage>>>;
/// Per worker: the rings its receiver merges, in input order.
#[doc(hidden)]
pub struct Inboxes<T>(Vec<Vec<(crate::exchange::In<T>, usize)>>);

/// `(from, to, record size in bytes)` of an edge inside a chain.
type Edge3 = (Arc<str>, Arc<str>, usize);

fn chain_line(s: &mut String, indent: &str, config: &Config, names: &[Arc<str>], edges: &[Edge3]) {
    if names.is_empty() {
        return;
    }
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    let _ = writeln!(s, "{indent}  chain: {}", list.join(" -> "));
    for (from, to, size) in edges {
        let (tier, cost) = crate::cost::choose(config.tiers, *size);
        let why = match cost {
            Some(c) => format!(
                "cost model: fused {:.2} ns/record, batch boundary {:.2} ns/record, measured \
                 for {}-byte records",
                c.l4_ns, c.l3_ns, c.bytes
            ),
            None => format!("forced by Config::tiers = {:?}", config.tiers),
        };
        let what = match tier {
            crate::cost::Tier::L4 => "L4 fused (direct call per record)",
            crate::cost::Tier::L3 => "L3 batch boundary (one dynamic call per batch)",
        };
        let _ = writeln!(
            s,
            "{indent}    edge `{from}` -> `{to}` ({size} B/record): {what}  [{why}]"
        );
    }
}

mod seal {
    use super::*;

    /// A pipeline that produces records of `Out` on every worker (a [`Stream`] or a
    /// [`Keyed`] stream). Sealed: implemented by this crate's builders only.
    pub trait Produce: Send + 'static {
        /// Record type.
        type Out: Send + 'static;
        /// Every operator of the pipeline.
        fn names(&self) -> &Names;
        /// Appends the pipeline's plan to `s`.
        fn describe(&self, config: &Config, s: &mut String, indent: &str);
        /// Whether, at parallelism 1, the whole pipeline runs as one stage.
        fn fusable(&self) -> bool;
        /// The parallelism of the pipeline's last stage (its stages run on workers
        /// `0..parallelism`).
        ///
        /// # Errors
        /// [`BuildError::Parallelism`] if it exceeds the workers.
        fn parallelism(&self, workers: usize) -> Result<usize, BuildError>;
        /// Builds the stages on workers `0..parallelism`; worker `w`'s output goes to
        /// `down(w)`.
        fn attach<D: Downstream<Self::Out> + 'static>(
            &self,
            config: &Config,
            stages: &mut Stages,
            down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
        ) -> Result<(), BuildError>;
    }

    /// The inputs of an exchange: one or two tagged pipelines.
    pub trait Inputs<T>: Send + 'static {
        fn names(&self) -> Names;
        /// Appends the inputs' plans; `to` is the receiving stage's parallelism, `None` when
        /// the exchange is fused away.
        fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>);
        /// Number of pipelines.
        fn count(&self) -> usize;
        /// Whether one input of parallelism 1 feeds the exchange (then, at parallelism 1, the
        /// exchange is the identity and is fused away).
        fn fusable(&self, workers: usize) -> bool;
        /// Builds the upstream stages and the rings into the inboxes of workers `0..to`
        /// (the receiving stage's parallelism).
        fn build(
            &self,
            config: &Config,
            stages: &mut Stages,
            inboxes: &mut Inboxes<T>,
            to: usize,
        ) -> Result<(), BuildError>;
        /// At parallelism 1 and [`Inputs::fusable`]: the upstream stages with the exchange
        /// fused away, into `down`.
        fn fuse<X: Downstream<T> + 'static>(
            &self,
            config: &Config,
            stages: &mut Stages,
            down: X,
        ) -> Result<(), BuildError>;
    }

    /// Converts the records of an input before they enter an exchange.
    pub trait Tagger<A>: Clone + Send + 'static {
        type Out: Send + 'static;
        fn tag(&mut self, a: A) -> Self::Out;
    }
}
use seal::{Inputs, Produce, Tagger};

/// A pipeline: a [`Stream`] or a [`Keyed`] stream (the argument type of `union` and
/// `window_join`).
pub trait Pipeline: Produce {}
impl<P: Produce> Pipeline for P {}

/// Leaves records as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct Same;
impl<A: Send + 'static> Tagger<A> for Same {
    type Out = A;
    #[inline(always)]
    fn tag(&mut self, a: A) -> A {
        a
    }
}

/// Tags records as the left side of a join.
#[derive(Debug)]
pub struct ToLeft<B>(std::marker::PhantomData<fn() -> B>);
impl<B> Clone for ToLeft<B> {
    fn clone(&self) -> Self {
        Self(std::marker::PhantomData)
    }
}
impl<A: Send + 'static, B: Send + 'static> Tagger<A> for ToLeft<B> {
    type Out = Side<A, B>;
    #[inline(always)]
    fn tag(&mut self, a: A) -> Side<A, B> {
        Side::Left(a)
    }
}

/// Tags records as the right side of a join.
#[derive(Debug)]
pub struct ToRight<A>(std::marker::PhantomData<fn() -> A>);
impl<A> Clone for ToRight<A> {
    fn clone(&self) -> Self {
        Self(std::marker::PhantomData)
    }
}
impl<A: Send + 'static, B: Send + 'static> Tagger<B> for ToRight<A> {
    type Out = Side<A, B>;
    #[inline(always)]
    fn tag(&mut self, b: B) -> Side<A, B> {
        Side::Right(b)
    }
}

/// A downstream behind a tag (the records of one side of a join become `Side` values).
pub struct TagDown<D, G> {
    down: D,
    tag: G,
}

impl<A, G: Tagger<A>, D: Downstream<G::Out>> crate::Emit<A> for TagDown<D, G> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: A) -> Result<(), OperatorError> {
        self.down.emit(ts, self.tag.tag(x))
    }
}

impl<A, G: Tagger<A>, D: Downstream<G::Out>> Downstream<A> for TagDown<D, G> {
    fn all_fused(&self) -> bool {
        self.down.all_fused()
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: A) -> Result<(), OperatorError> {
        self.down.emit_fused(ts, self.tag.tag(x))
    }
    fn timed(&self) -> bool {
        self.down.timed()
    }
    fn open(&mut self, ctx: &crate::Context) -> Result<(), OperatorError> {
        self.down.open(ctx)
    }
    fn flush(&mut self) -> Result<(), OperatorError> {
        self.down.flush()
    }
    fn set_bells(&mut self, bells: &Arc<crate::bell::Bells>) {
        self.down.set_bells(bells);
    }
    fn metrics(&self, m: &mut Metrics) {
        self.down.metrics(m);
    }
    fn ready(&self) -> bool {
        self.down.ready()
    }
    fn maintain(&mut self, now: std::time::Instant) -> Result<bool, OperatorError> {
        self.down.maintain(now)
    }
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        self.down.watermark(w)
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        self.down.idle()
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        self.down.end()
    }
}

/// A chain and its downstream, as one downstream: how a chain after an exchange runs in the
/// upstream's stage when the exchange is fused away (the same calls in the same order as
/// [`Then`]: records, watermarks, then `close` at the end).
pub struct Fused<C, D> {
    chain: C,
    down: D,
}

impl<T, C: Operator<T>, D: Downstream<C::Out>> crate::Emit<T> for Fused<C, D> {
    #[inline(always)]
    fn emit(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.chain.process(ts, x, &mut self.down)
    }
}

impl<T, C: Operator<T>, D: Downstream<C::Out>> Downstream<T> for Fused<C, D> {
    fn timed(&self) -> bool {
        self.down.timed()
    }
    fn open(&mut self, ctx: &crate::Context) -> Result<(), OperatorError> {
        self.chain.open(ctx)?;
        self.down.open(ctx)
    }
    fn flush(&mut self) -> Result<(), OperatorError> {
        self.chain.flush(&mut self.down)?;
        self.down.flush()
    }
    fn set_bells(&mut self, bells: &Arc<crate::bell::Bells>) {
        self.down.set_bells(bells);
    }
    fn metrics(&self, m: &mut Metrics) {
        self.chain.metrics(m);
        self.down.metrics(m);
    }
    fn all_fused(&self) -> bool {
        self.chain.all_fused() && self.down.all_fused()
    }
    #[inline(always)]
    fn emit_fused(&mut self, ts: EventTime, x: T) -> Result<(), OperatorError> {
        self.chain
            .process_fused(ts, x, &mut crate::stage::FastDown(&mut self.down))
    }
    fn ready(&self) -> bool {
        self.down.ready()
    }
    fn maintain(&mut self, now: std::time::Instant) -> Result<bool, OperatorError> {
        self.down.maintain(now)
    }
    fn watermark(&mut self, w: EventTime) -> Result<(), OperatorError> {
        if let Some(w) = self.chain.on_watermark(w, &mut self.down)? {
            self.down.watermark(w)?;
        }
        Ok(())
    }
    fn idle(&mut self) -> Result<(), OperatorError> {
        self.down.idle()
    }
    fn end(&mut self) -> Result<(), OperatorError> {
        self.chain.close(&mut self.down)?;
        self.down.end()
    }
}

/// One input of an exchange: a pipeline, how its records are routed, and their tag.
pub struct Edge<P, R, G> {
    up: P,
    part: R,
    tag: G,
    what: String,
}

impl<P, R, G> Inputs<G::Out> for Edge<P, R, G>
where
    P: Produce,
    R: Partition<G::Out>,
    G: Tagger<P::Out>,
{
    fn names(&self) -> Names {
        self.up.names().clone()
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>) {
        self.up.describe(config, s, indent);
        let Some(to) = to else { return };
        let from = self
            .up
            .parallelism(config.workers)
            .unwrap_or(config.workers);
        let fan = self.part.fan_out(to);
        let _ = writeln!(
            s,
            "{indent}  => {}: {from} sender(s) x {fan} SPSC ring(s) of pooled batches ({} \
             batches per sender), flushed when full, on a watermark or at the deadline",
            self.what,
            fan * (config.channel_capacity + 4)
        );
    }

    fn count(&self) -> usize {
        1
    }

    fn fusable(&self, workers: usize) -> bool {
        self.up.fusable() && self.up.parallelism(workers) == Ok(1)
    }

    fn build(
        &self,
        config: &Config,
        stages: &mut Stages,
        inboxes: &mut Inboxes<G::Out>,
        to: usize,
    ) -> Result<(), BuildError> {
        let from = self.up.parallelism(config.workers)?;
        // Hash: every sender reaches every receiver; forward: sender w reaches receiver w
        // (a union checks that both sides have the receiver's parallelism).
        let fan = self.part.fan_out(to);
        let forward = self.part.forward();
        if forward && from != to {
            return Err(BuildError::UnionParallelism {
                union: self.what.clone(),
                left: from,
                right: to,
            });
        }
        let mut senders = Vec::with_capacity(from);
        for w in 0..from {
            let mut rings = Vec::with_capacity(fan);
            let mut peers = Vec::with_capacity(fan);
            for j in 0..fan {
                let dest = if forward { w } else { j };
                // Release every pop: a link carries whole batches, so lazy release would save
                // little, and a sender that sees a full link queues messages in `pending`.
                let (tx, rx) =
                    spsc::channel_releasing::<Message<G::Out>>(config.channel_capacity, 1)?;
                rings.push(Box::new(tx) as crate::exchange::Out<G::Out>);
                peers.push(dest);
                inboxes.0[dest].push((Box::new(rx) as crate::exchange::In<G::Out>, w));
            }
            senders.push(Some(ExchangeSender::new(
                self.part.clone(),
                rings,
                peers,
                config.batch_size,
                config.channel_capacity,
                config.flush_deadline,
            )?));
        }
        let tag = self.tag.clone();
        self.up.attach(config, stages, &mut |w| {
            let down = senders[w].take().expect("one sender per worker");
            Ok(TagDown {
                down,
                tag: tag.clone(),
            })
        })
    }

    fn fuse<X: Downstream<G::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: X,
    ) -> Result<(), BuildError> {
        let mut down = Some(TagDown {
            down,
            tag: self.tag.clone(),
        });
        self.up.attach(config, stages, &mut |_| {
            down.take().ok_or(BuildError::Zero {
                what: "fused stage",
            })
        })
    }
}

impl<T, E1: Inputs<T>, E2: Inputs<T>> Inputs<T> for (E1, E2) {
    fn names(&self) -> Names {
        self.0.names().join(&self.1.names())
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str, to: Option<usize>) {
        self.0.describe(config, s, indent, to);
        self.1.describe(config, s, indent, to);
    }

    fn count(&self) -> usize {
        self.0.count() + self.1.count()
    }

    fn fusable(&self, _workers: usize) -> bool {
        false
    }

    fn build(
        &self,
        config: &Config,
        stages: &mut Stages,
        inboxes: &mut Inboxes<T>,
        to: usize,
    ) -> Result<(), BuildError> {
        self.0.build(config, stages, inboxes, to)?;
        self.1.build(config, stages, inboxes, to)
    }

    fn fuse<X: Downstream<T> + 'static>(
        &self,
        _: &Config,
        _: &mut Stages,
        _: X,
    ) -> Result<(), BuildError> {
        unreachable!("two inputs never fuse into one stage (not `fusable`)")
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
        source_name: Arc::from(name),
        chain_names: Vec::new(),
        edges: Vec::new(),
        parallelism: None,
        source,
        watermarks,
        chain,
    }
}

/// A stream on the source side of a job: a source and a fused operator chain.
pub struct Stream<S, C> {
    names: Names,
    source_name: Arc<str>,
    chain_names: Vec<Arc<str>>,
    /// `(from, to, record size)` of every edge of the chain.
    edges: Vec<Edge3>,
    /// Workers that run this stage (`None`: all).
    parallelism: Option<usize>,
    source: S,
    watermarks: WatermarkStrategy,
    chain: C,
}

/// A stream after an exchange (`key_by`, `union`, `window_join`): a data-defined merge of the
/// exchange's inputs, then a fused operator chain.
pub struct Keyed<T, C, I> {
    names: Names,
    /// The exchange, for `explain`.
    label: String,
    /// The exchange's own (identity) operator: where the chain starts.
    head: Arc<str>,
    chain_names: Vec<Arc<str>>,
    edges: Vec<Edge3>,
    parallelism: Option<usize>,
    inputs: I,
    chain: C,
    _t: std::marker::PhantomData<fn() -> T>,
}

fn keyed<T, I: Inputs<T>>(name: &str, label: String, inputs: I) -> Keyed<T, Named<Identity>, I> {
    let mut names = inputs.names();
    let chain = names.named(name, Identity);
    Keyed {
        names,
        label,
        head: Arc::from(name),
        chain_names: Vec::new(),
        edges: Vec::new(),
        parallelism: None,
        inputs,
        chain,
        _t: std::marker::PhantomData,
    }
}

impl<S: Source, C: Operator<S::Item>> Produce for Stream<S, C>
where
    C::Out: Send + 'static,
{
    type Out = C::Out;

    fn names(&self) -> &Names {
        &self.names
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str) {
        let p = self.parallelism(config.workers).unwrap_or(config.workers);
        let _ = writeln!(
            s,
            "{indent}source `{}` on workers 0..{p} (partition w of {p}); watermark = max event \
             time - {} every {} records  [stage: L3, one dynamic call per step of up to {} \
             records]",
            self.source_name, self.watermarks.delay, self.watermarks.every, config.step_budget
        );
        chain_line(s, indent, config, &self.chain_names, &self.edges);
    }

    fn fusable(&self) -> bool {
        true
    }

    fn parallelism(&self, workers: usize) -> Result<usize, BuildError> {
        resolve(self.parallelism, workers, &self.source_name)
    }

    fn attach<D: Downstream<C::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
    ) -> Result<(), BuildError> {
        let p = self.parallelism(config.workers)?;
        if self.watermarks.every == 0 {
            return Err(BuildError::Zero {
                what: "the watermark strategy's `every`",
            });
        }
        for (w, st) in stages.iter_mut().enumerate().take(p) {
            st.push(Box::new(SourceStage::new(
                self.source_name.clone(),
                self.source.clone(),
                self.chain.clone(),
                down(w)?,
                self.watermarks,
                (w, p),
            )));
        }
        Ok(())
    }
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Produce for Keyed<T, C, I>
where
    C::Out: Send + 'static,
{
    type Out = C::Out;

    fn names(&self) -> &Names {
        &self.names
    }

    fn describe(&self, config: &Config, s: &mut String, indent: &str) {
        let inner = format!("{indent}    ");
        let p = self.parallelism(config.workers).unwrap_or(config.workers);
        let fused = p == 1 && self.inputs.fusable(config.workers);
        self.inputs
            .describe(config, s, &inner, (!fused).then_some(p));
        if fused {
            let _ = writeln!(
                s,
                "{indent}{} fused away: one input at parallelism 1, every key is local (no \
                 ring, no batches)",
                self.label
            );
        } else {
            let _ = writeln!(
                s,
                "{indent}{} on workers 0..{p}: merge of the input rings by (event time, kind, \
                 input): the order is defined by the data  [stage: L3, one dynamic call per step]",
                self.label,
            );
        }
        chain_line(s, indent, config, &self.chain_names, &self.edges);
    }

    fn fusable(&self) -> bool {
        // Only a single-input exchange can fuse; the parallelism is checked by the caller.
        self.inputs.count() == 1
    }

    fn parallelism(&self, workers: usize) -> Result<usize, BuildError> {
        resolve(self.parallelism, workers, &self.head)
    }

    fn attach<D: Downstream<C::Out> + 'static>(
        &self,
        config: &Config,
        stages: &mut Stages,
        down: &mut dyn FnMut(usize) -> Result<D, BuildError>,
    ) -> Result<(), BuildError> {
        let n = self.parallelism(config.workers)?;
        if n == 1 && self.inputs.fusable(config.workers) {
            let fused = Fused {
                chain: self.chain.clone(),
                down: down(0)?,
            };
            return self.inputs.fuse(config, stages, fused);
        }
        let mut inboxes = Inboxes((0..n).map(|_| Vec::new()).collect());
        self.inputs.build(config, stages, &mut inboxes, n)?;
        for (w, rings) in inboxes.0.into_iter().enumerate() {
            stages[w].push(Box::new(ExchangeStage::new(
                self.head.clone(),
                ExchangeReceiver::new(rings),
                self.chain.clone(),
                down(w)?,
            )));
        }
        Ok(())
    }
}

/// A stage's parallelism: `p` if set (checked against the workers), else every worker.
fn resolve(p: Option<usize>, workers: usize, stage: &str) -> Result<usize, BuildError> {
    match p {
        None => Ok(workers),
        Some(0) => Err(BuildError::Zero {
            what: "parallelism",
        }),
        Some(p) if p > workers => Err(BuildError::Parallelism {
            stage: stage.to_owned(),
            parallelism: p,
            workers,
        }),
        Some(p) => Ok(p),
    }
}

/// A finished pipeline (ending in a sink), type-erased.
trait Build: Send {
    fn build(&self, config: &Config) -> Result<Stages, BuildError>;
    fn describe(&self, config: &Config, s: &mut String);
}

impl<P: Produce<Out = ()>> Build for P {
    fn build(&self, config: &Config) -> Result<Stages, BuildError> {
        let mut stages: Stages = (0..config.workers).map(|_| Vec::new()).collect();
        self.attach(config, &mut stages, &mut |_| Ok(Terminal))?;
        Ok(stages)
    }

    fn describe(&self, config: &Config, s: &mut String) {
        Produce::describe(self, config, s, "");
    }
}

fn plan<P: Produce<Out = ()>>(p: P) -> Plan {
    Plan {
        names: Arc::new(p.names().0.clone()),
        job: Box::new(p),
    }
}

fn key_by<P: Produce, K: Hash, KF>(p: P, name: &str, key: KF) -> KeyedBy<P, KF>
where
    KF: FnMut(&P::Out) -> K + Clone + Send + 'static,
{
    let label = format!("exchange `{name}`");
    keyed(
        name,
        label.clone(),
        Edge {
            up: p,
            part: ByKey(key),
            tag: Same,
            what: format!("hash of the key -> every worker ({label})"),
        },
    )
}

/// The inputs of a `union`: both forwarded, untagged.
pub type Union<P, Q> = (Edge<P, Forward, Same>, Edge<Q, Forward, Same>);

/// The stream `key_by` returns.
pub type KeyedBy<P, KF> = Keyed<<P as Produce>::Out, Named<Identity>, Edge<P, ByKey<KF>, Same>>;

fn union<P: Produce, Q: Produce<Out = P::Out>>(
    p: P,
    name: &str,
    q: Q,
) -> Keyed<P::Out, Named<Identity>, Union<P, Q>> {
    let what = format!("forward to the same worker (union `{name}`)");
    keyed(
        name,
        format!("union `{name}`"),
        (
            Edge {
                up: p,
                part: Forward,
                tag: Same,
                what: what.clone(),
            },
            Edge {
                up: q,
                part: Forward,
                tag: Same,
                what,
            },
        ),
    )
}

/// The inputs of a join: both sides hashed by their key, tagged left and right.
pub type JoinInputs<P, Q, KA, KB> = (
    Edge<P, JoinKey<KA, KB>, ToLeft<<Q as Produce>::Out>>,
    Edge<Q, JoinKey<KA, KB>, ToRight<<P as Produce>::Out>>,
);

/// Routes both sides of a join by their key (the same key type and hash on both sides, so
/// matching records meet on one worker).
#[derive(Debug, Clone)]
pub struct JoinKey<KA, KB>(KA, KB);

impl<A, B, K, KA, KB> Partition<Side<A, B>> for JoinKey<KA, KB>
where
    K: Hash,
    KA: FnMut(&A) -> K + Clone + Send + 'static,
    KB: FnMut(&B) -> K + Clone + Send + 'static,
{
    fn fan_out(&self, workers: usize) -> usize {
        workers
    }
    #[inline(always)]
    fn route(&mut self, x: &Side<A, B>, fan_out: usize) -> usize {
        match x {
            Side::Left(a) => crate::exchange::route(&(self.0)(a), fan_out),
            Side::Right(b) => crate::exchange::route(&(self.1)(b), fan_out),
        }
    }
}

/// A windowed join: the operator after its exchange.
pub type JoinOp<P, Q, K, KA, KB, F> =
    WindowJoin<K, KA, KB, F, <P as Produce>::Out, <Q as Produce>::Out>;

/// The stream a `window_join` returns.
pub type Joined<P, Q, K, KA, KB, F> = Keyed<
    Side<<P as Produce>::Out, <Q as Produce>::Out>,
    Then<
        Named<Identity>,
        Named<JoinOp<P, Q, K, KA, KB, F>>,
        Side<<P as Produce>::Out, <Q as Produce>::Out>,
    >,
    JoinInputs<P, Q, KA, KB>,
>;

#[allow(clippy::too_many_arguments)]
fn window_join<P, Q, K, KA, KB, F, U>(
    p: P,
    name: &str,
    q: Q,
    key_left: KA,
    key_right: KB,
    spec: SlidingSpec,
    f: F,
) -> Result<Joined<P, Q, K, KA, KB, F>, BuildError>
where
    P: Produce,
    Q: Produce,
    P::Out: Clone,
    Q::Out: Clone,
    K: Ord + Hash + Clone + Send + 'static,
    KA: FnMut(&P::Out) -> K + Clone + Send + 'static,
    KB: FnMut(&Q::Out) -> K + Clone + Send + 'static,
    F: FnMut(&K, &P::Out, &Q::Out) -> U + Clone + Send + 'static,
{
    // Validates the spec (size and slide positive) with the window crate's rules.
    SlidingWindows::new(lute_window::ops::Count, &[spec])?;
    let what = format!("hash of the key -> every worker (join `{name}`)");
    let part = JoinKey(key_left.clone(), key_right.clone());
    let k = keyed(
        &format!("{name} (exchange)"),
        format!("join `{name}`"),
        (
            Edge {
                up: p,
                part: part.clone(),
                tag: ToLeft(std::marker::PhantomData),
                what: what.clone(),
            },
            Edge {
                up: q,
                part,
                tag: ToRight(std::marker::PhantomData),
                what,
            },
        ),
    );
    Ok(k.apply(name, WindowJoin::new(key_left, key_right, spec, f)))
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C>
where
    C::Out: Send + 'static,
{
    /// Appends a user-defined operator.
    pub fn apply<O: Operator<C::Out>>(
        mut self,
        name: &str,
        op: O,
    ) -> Stream<S, Then<C, Named<O>, C::Out>> {
        let op = self.names.named(name, op);
        let from = self.chain_names.last().unwrap_or(&self.source_name).clone();
        self.edges
            .push((from, Arc::from(name), std::mem::size_of::<C::Out>()));
        self.chain_names.push(Arc::from(name));
        Stream {
            edges: self.edges,
            parallelism: self.parallelism,
            names: self.names,
            source_name: self.source_name,
            chain_names: self.chain_names,
            source: self.source,
            watermarks: self.watermarks,
            chain: Then::new(self.chain, op),
        }
    }
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Keyed<T, C, I>
where
    C::Out: Send + 'static,
{
    /// Appends a user-defined operator after the exchange.
    pub fn apply<O: Operator<C::Out>>(
        mut self,
        name: &str,
        op: O,
    ) -> Keyed<T, Then<C, Named<O>, C::Out>, I> {
        let op = self.names.named(name, op);
        let from = self.chain_names.last().unwrap_or(&self.head).clone();
        self.edges
            .push((from, Arc::from(name), std::mem::size_of::<C::Out>()));
        self.chain_names.push(Arc::from(name));
        Keyed {
            edges: self.edges,
            parallelism: self.parallelism,
            names: self.names,
            label: self.label,
            head: self.head,
            chain_names: self.chain_names,
            inputs: self.inputs,
            chain: Then::new(self.chain, op),
            _t: std::marker::PhantomData,
        }
    }

    /// Per key (by `key`), tumbling or sliding event-time windows over `specs`, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes each
    /// window's end. Late events are dropped and counted (metric `late_dropped`).
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
        Keyed<T, Then<C, Named<WindowOp<WK, WKF, VF, SlidingWindows<M>>>, C::Out>, I>,
        BuildError,
    >
    where
        WK: Ord + Hash + Clone + Send + 'static,
        WKF: FnMut(&C::Out) -> WK + Clone + Send + 'static,
        VF: FnMut(C::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        let windows = SlidingWindows::new(op, specs)?;
        Ok(self.apply(
            name,
            WindowOp::<_, _, _, _, DropLate>::new(key, value, windows),
        ))
    }

    /// As [`Keyed::window`], but late events are not dropped: they leave the operator as
    /// [`Windowed::Late`](crate::window_op::Windowed::Late) next to the window results
    /// ([`Windowed::Window`](crate::window_op::Windowed::Window)), a side output that the next
    /// operators can split off (metric `late_emitted`).
    ///
    /// # Errors
    /// [`BuildError::Window`] for an empty or non-positive window specification.
    #[allow(clippy::type_complexity)]
    pub fn window_with_late<WK, WKF, V, VF, M>(
        self,
        name: &str,
        key: WKF,
        value: VF,
        specs: &[SlidingSpec],
        op: M,
    ) -> Result<
        Keyed<T, Then<C, Named<WindowOp<WK, WKF, VF, SlidingWindows<M>, EmitLate>>, C::Out>, I>,
        BuildError,
    >
    where
        WK: Ord + Hash + Clone + Send + 'static,
        WKF: FnMut(&C::Out) -> WK + Clone + Send + 'static,
        VF: FnMut(C::Out) -> V + Clone + Send + 'static,
        M: Lift<V> + Monoid + Clone + Send + 'static,
        M::Agg: Send,
    {
        let windows = SlidingWindows::new(op, specs)?;
        Ok(self.apply(
            name,
            WindowOp::<_, _, _, _, EmitLate>::new(key, value, windows),
        ))
    }

    /// Per key, session windows closed after `gap` time units without events, aggregating
    /// `value(record)` with `op`; emits `(key, WindowResult)` when the watermark passes a
    /// session's end. Late events are dropped and counted (metric `late_dropped`).
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
    ) -> Result<Keyed<T, Then<C, Named<WindowOp<WK, WKF, VF, Sessions<M>>>, C::Out>, I>, BuildError>
    where
        WK: Ord + Hash + Clone + Send + 'static,
        WKF: FnMut(&C::Out) -> WK + Clone + Send + 'static,
        VF: FnMut(C::Out) -> V + Clone + Send + 'static,
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
            WindowOp::<_, _, _, _, DropLate>::new(key, value, state),
        ))
    }
}

impl<T, C, I, K, KF, VF, W, L> Keyed<T, Then<C, Named<WindowOp<K, KF, VF, W, L>>, Out<C, T>>, I>
where
    C: Operator<T>,
{
    /// Keeps the windows of the window operator just added open `lateness` time units past
    /// the watermark, so events up to `lateness` behind it still count (see
    /// [`crate::window_op`]); results come `lateness` later.
    ///
    /// # Errors
    /// [`BuildError::Negative`] for a negative lateness.
    pub fn allowed_lateness(mut self, lateness: EventTime) -> Result<Self, BuildError> {
        self.chain.b.op.set_allowed_lateness(lateness)?;
        Ok(self)
    }
}

/// A [`Stream`] with one more operator.
pub type StreamThen<S, C, O> = Stream<S, Then<C, Named<O>, Out<C, <S as Source>::Item>>>;
/// A [`Keyed`] stream with one more operator.
pub type KeyedThen<T, C, I, O> = Keyed<T, Then<C, Named<O>, Out<C, T>>, I>;
/// The output type of chain `C` on input `In`.
pub type Out<C, In> = <C as Operator<In>>::Out;

/// Builder methods shared by [`Stream`] and [`Keyed`] (in terms of their `apply`).
macro_rules! pipeline_methods {
    ($Next:ident [$($pre:ty),*]) => {
        /// Runs this stage (the source or merge and its fused chain) on workers
        /// `0..parallelism` only (default: every worker). An exchange after it spreads the
        /// records over the next stage's workers; a `union` needs equal parallelism on both
        /// sides.
        pub fn parallelism(mut self, parallelism: usize) -> Self {
            self.parallelism = Some(parallelism);
            self
        }

        /// One output per input.
        pub fn map<U, F>(self, name: &str, f: F) -> $Next<$($pre,)* Map<F>>
        where
            F: FnMut(C::Out) -> U + Clone + Send + 'static,
        {
            self.apply(name, Map(f))
        }

        /// A fallible map: an `Err` fails the job with this operator's name.
        pub fn try_map<U, F>(self, name: &str, f: F) -> $Next<$($pre,)* TryMap<F>>
        where
            F: FnMut(C::Out) -> Result<U, OperatorError> + Clone + Send + 'static,
        {
            self.apply(name, TryMap(f))
        }

        /// Keeps records for which `f` holds.
        pub fn filter<F>(self, name: &str, f: F) -> $Next<$($pre,)* Filter<F>>
        where
            F: FnMut(&C::Out) -> bool + Clone + Send + 'static,
        {
            self.apply(name, Filter(f))
        }

        /// Zero or more outputs per input, with the input's event time.
        pub fn flat_map<It, F>(self, name: &str, f: F) -> $Next<$($pre,)* FlatMap<F>>
        where
            F: FnMut(C::Out) -> It + Clone + Send + 'static,
            It: IntoIterator,
        {
            self.apply(name, FlatMap(f))
        }

        /// Exchanges records between workers by a hash of `key`, so that all records of a
        /// key meet on one worker.
        pub fn key_by<K, KF>(self, name: &str, key: KF) -> KeyedBy<Self, KF>
        where
            K: Hash,
            KF: FnMut(&C::Out) -> K + Clone + Send + 'static,
        {
            key_by(self, name, key)
        }

        /// Merges this stream with `other` (same record type) without repartitioning: on
        /// every worker, the two inputs are merged by event time (a data-defined order);
        /// the watermark is the minimum of the two.
        pub fn union<Q: Pipeline + Produce<Out = C::Out>>(
            self,
            name: &str,
            other: Q,
        ) -> Keyed<C::Out, Named<Identity>, Union<Self, Q>> {
            union(self, name, other)
        }

        /// Windowed inner join with `other`: records of this stream (left) and `other`
        /// (right) with equal keys in the same window (tumbling or sliding `spec`) are
        /// paired; `f(key, left, right)` is emitted per pair when the watermark passes the
        /// window's end, with event time `end - 1`. Late records are dropped and counted
        /// (metric `late_dropped`). See [`crate::join`].
        ///
        /// # Errors
        /// [`BuildError::Window`] for a non-positive size or slide.
        #[allow(clippy::type_complexity)]
        pub fn window_join<Q, K, KA, KB, F, U>(
            self,
            name: &str,
            other: Q,
            key_left: KA,
            key_right: KB,
            spec: SlidingSpec,
            f: F,
        ) -> Result<Joined<Self, Q, K, KA, KB, F>, BuildError>
        where
            Q: Pipeline,
            C::Out: Clone,
            Q::Out: Clone,
            K: Ord + Hash + Clone + Send + 'static,
            KA: FnMut(&C::Out) -> K + Clone + Send + 'static,
            KB: FnMut(&Q::Out) -> K + Clone + Send + 'static,
            F: FnMut(&K, &C::Out, &Q::Out) -> U + Clone + Send + 'static,
        {
            window_join(self, name, other, key_left, key_right, spec, f)
        }

        /// Ends the job in a sink operator.
        pub fn sink<O: Operator<C::Out, Out = ()>>(self, name: &str, op: O) -> Plan {
            plan(self.apply(name, op))
        }

        /// Ends the job in a callback called for every record.
        pub fn for_each<F>(self, name: &str, f: F) -> Plan
        where
            F: FnMut(EventTime, C::Out) -> Result<(), OperatorError> + Clone + Send + 'static,
        {
            self.sink(name, CallbackSink(f))
        }

        /// Ends the job in files: each worker writes its records, one JSON line
        /// `[event_time, record]` each, to `dir/part-<worker>.jsonl` (see [`FileSink`]).
        pub fn write_json_lines(self, name: &str, dir: impl Into<std::path::PathBuf>) -> Plan
        where
            C::Out: serde::Serialize,
        {
            self.sink(name, FileSink::new(dir))
        }

        /// Collects the output (see [`Collect`]).
        pub fn collect(self) -> Collect<C::Out> {
            collect_with(|sink| self.sink("collect", sink))
        }
    };
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C>
where
    C::Out: Send + 'static,
{
    pipeline_methods!(StreamThen[S, C]);
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Keyed<T, C, I>
where
    C::Out: Send + 'static,
{
    pipeline_methods!(KeyedThen[T, C, I]);
}

type BuildFn = dyn Build;

/// A complete job, ready to run.
pub struct Plan {
    names: Arc<Vec<(u32, Arc<str>)>>,
    job: Box<BuildFn>,
}

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plan")
            .field("operators", &self.operators())
            .finish()
    }
}

impl Plan {
    /// Operator names, in the order they were added (inputs of a union or join first).
    pub fn operators(&self) -> Vec<String> {
        self.names.iter().map(|(_, n)| n.to_string()).collect()
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
        let mut s = String::new();
        let _ = writeln!(
            s,
            "plan: {} worker(s), {:?} pinning, batches of {} records, rings of {} slots, \
             flush deadline {:?}, step budget {} records, idle {:?}",
            config.workers,
            config.pinning,
            config.batch_size,
            config.channel_capacity,
            config.flush_deadline,
            config.step_budget,
            config.idle,
        );
        self.job.describe(config, &mut s);
        s
    }

    /// Runs the job on `config.workers` workers and waits for it to finish; returns the
    /// operators' counters (e.g. late events dropped), summed over workers.
    ///
    /// # Errors
    /// [`JobError::Build`] for a bad configuration (before any thread starts); otherwise the
    /// first operator error or panic, after every thread was joined.
    pub fn run(&self, config: &Config) -> Result<Metrics, JobError> {
        config.validate()?;
        if config.tiers == crate::cost::Tiers::Model {
            // Calibrates the cost model for every edge now, on this thread, before any worker
            // runs (so workers neither measure concurrently nor wait for each other).
            self.job.describe(config, &mut String::new());
        }
        let stages = self.job.build(config)?;
        crate::worker::run(config, self.names.clone(), stages)
    }
}

/// A job that collects its output; [`Collect::run`] returns it.
pub struct Collect<T> {
    plan: Plan,
    slots: Slots<T>,
    metrics: Mutex<Metrics>,
}

fn collect_with<T: Send + 'static>(make: impl FnOnce(CollectSink<T>) -> Plan) -> Collect<T> {
    let slots = Arc::new(Mutex::new(Vec::new()));
    let plan = make(CollectSink::new(slots.clone()));
    Collect {
        plan,
        slots,
        metrics: Mutex::new(Metrics::default()),
    }
}

impl<T> Collect<T> {
    fn take(&self, config: &Config) -> Result<Vec<Vec<(EventTime, T)>>, JobError> {
        {
            let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            s.clear();
            s.resize_with(config.workers, Vec::new);
        }
        let m = self.plan.run(config)?;
        *self.metrics.lock().unwrap_or_else(PoisonError::into_inner) = m;
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

    /// Runs the job; returns the output in a canonical order (event time, then record): the
    /// same in every run with the same configuration. Across worker counts it is the same for
    /// records that are on time; which records are *late* can depend on the number of source
    /// partitions, since each partition makes its own watermarks (every `every` of its records).
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

    /// The counters of the last successful run (see [`Plan::run`]).
    pub fn metrics(&self) -> Metrics {
        self.metrics
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The physical plan (see [`Plan::explain`]).
    pub fn explain(&self, config: &Config) -> String {
        self.plan.explain(config)
    }
}
