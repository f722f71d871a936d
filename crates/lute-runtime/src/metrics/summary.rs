//! [`Metrics`]: counters operators report when the job ends, summed over workers.

use std::sync::Arc;

/// Counters reported by operators at the end of a run, summed over workers: one value per
/// (operator name, counter name). The runtime's own: `records_in` per stage (under the
/// source's name, and under an exchange's name where it runs as its own stage: not when it is
/// fused away at one worker); `late_dropped` / `late_emitted` per window or join operator;
/// `keys_evicted` per window operator; `exchange_spilled_batches` (under `<job>`).
///
/// # Examples
///
/// ```
/// use lute_runtime::metrics::Metrics;
/// let mut m = Metrics::default();
/// m.add("late_dropped", 3); // outside an operator: recorded under "<job>"
/// assert_eq!(m.get("<job>", "late_dropped"), Some(3));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metrics {
    current: Option<Arc<str>>,
    values: std::collections::BTreeMap<(String, &'static str), u64>,
}

impl Metrics {
    /// Adds `v` to the counter `name` of the operator being asked.
    pub fn add(&mut self, name: &'static str, v: u64) {
        let op = self.current.as_deref().unwrap_or("<job>").to_owned();
        *self.values.entry((op, name)).or_insert(0) += v;
    }

    /// The counter `name` of operator `op`, if it reported one.
    pub fn get(&self, op: &str, name: &str) -> Option<u64> {
        self.values
            .iter()
            .find(|((o, n), _)| o == op && *n == name)
            .map(|(_, v)| *v)
    }

    /// Every counter: `((operator, counter), value)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &'static str, u64)> {
        self.values.iter().map(|((o, n), v)| (o.as_str(), *n, *v))
    }

    /// Adds every counter of `other` to this one.
    pub fn merge(&mut self, other: &Metrics) {
        for ((o, n), v) in &other.values {
            *self.values.entry((o.clone(), n)).or_insert(0) += v;
        }
    }

    pub(crate) fn within(&mut self, op: &Arc<str>, f: impl FnOnce(&mut Self)) {
        let prev = self.current.replace(op.clone());
        f(self);
        self.current = prev;
    }
}

impl std::fmt::Display for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for ((o, n), v) in &self.values {
            writeln!(f, "{o}.{n} = {v}")?;
        }
        Ok(())
    }
}
