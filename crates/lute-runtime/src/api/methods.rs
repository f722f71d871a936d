//! Builder methods shared by [`Stream`] and [`Exchanged`], written once (in terms of their
//! `apply`).

use super::join::Joined;
use super::{
    Collect, Exchanged, ExchangedThen, KeyedStream, Pipeline, Plan, Stream, StreamThen, Union,
};
use crate::error::{BuildError, OperatorError};
use crate::operator::sink::{CallbackSink, FileSink};
use crate::operator::{EventTime, Filter, FlatMap, Identity, Map, Named, Operator, TryMap};
use crate::plan::{Inputs, Produce};
use crate::source::Source;
use lute_window::window::SlidingSpec;
use std::hash::Hash;

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
        pub fn key_by<K, KF>(self, name: &str, key: KF) -> KeyedStream<Self, KF>
        where
            K: Hash,
            KF: FnMut(&C::Out) -> K + Clone + Send + 'static,
        {
            super::exchanged::key_by(self, name, key)
        }

        /// Merges this stream with `other` (same record type) without repartitioning: on
        /// every worker, the two inputs are merged by event time (a data-defined order);
        /// the watermark is the minimum of the two.
        pub fn union<Q: Pipeline + Produce<Out = C::Out>>(
            self,
            name: &str,
            other: Q,
        ) -> Exchanged<C::Out, Named<Identity>, Union<Self, Q>> {
            super::exchanged::union(self, name, other)
        }

        /// Windowed inner join with `other`: records of this stream (left) and `other`
        /// (right) with equal keys in the same window (tumbling or sliding `spec`) are
        /// paired; `f(key, left, right)` is emitted per pair when the watermark passes the
        /// window's end, with event time `end - 1`. Late records are dropped and counted
        /// (metric `late_dropped`). See [`crate::operator::join`].
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
            super::join::window_join(self, name, other, key_left, key_right, spec, f)
        }

        /// Ends the job in a sink operator.
        pub fn sink<O: Operator<C::Out, Out = ()>>(self, name: &str, op: O) -> Plan {
            super::job::plan(self.apply(name, op))
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
            super::job::collect_with(|sink| self.sink("collect", sink))
        }
    };
}

impl<S: Source, C: Operator<S::Item>> Stream<S, C>
where
    C::Out: Send + 'static,
{
    pipeline_methods!(StreamThen[S, C]);
}

impl<T: Send + 'static, C: Operator<T>, I: Inputs<T>> Exchanged<T, C, I>
where
    C::Out: Send + 'static,
{
    pipeline_methods!(ExchangedThen[T, C, I]);
}
