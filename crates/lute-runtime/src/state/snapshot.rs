//! [`Snapshot`]: registered state captured at a barrier, keyed by `(operator, piece name)`.

use super::{Captured, Registered, StateVisitor};
use lute_core::{OperatorId, StateError};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The operator id under which state visited outside any operator is kept.
const NO_OPERATOR: OperatorId = OperatorId(u32::MAX);

/// Captured state of one or more operators.
///
/// # Examples
///
/// ```
/// use lute_runtime::state::{Registered, Snapshot, StateVisitor};
/// use lute_core::OperatorId;
/// use std::sync::Arc;
/// let name: Arc<str> = Arc::from("counter");
/// let mut count = 7u64;
/// let mut show = |count: &mut u64, v: &mut dyn StateVisitor| {
///     v.enter(OperatorId(1), &name);
///     v.visit("count", count);
///     v.leave();
/// };
/// let snap = Snapshot::capture(|v| show(&mut count, v));
/// count = 0;
/// snap.restore(|v| show(&mut count, v)).unwrap();
/// assert_eq!(count, 7);
/// ```
#[derive(Default)]
pub struct Snapshot {
    parts: BTreeMap<(OperatorId, &'static str), Box<dyn Captured>>,
    names: BTreeMap<OperatorId, Arc<str>>,
}

impl Clone for Snapshot {
    fn clone(&self) -> Self {
        Self {
            parts: self
                .parts
                .iter()
                .map(|(k, v)| (*k, v.clone_box()))
                .collect(),
            names: self.names.clone(),
        }
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("pieces", &self.parts.keys().collect::<Vec<_>>())
            .field("operators", &self.names)
            .finish()
    }
}

impl Snapshot {
    /// Captures everything `show` visits.
    pub fn capture(show: impl FnOnce(&mut dyn StateVisitor)) -> Self {
        let mut c = Capture {
            snap: Self::default(),
            stack: Vec::new(),
        };
        show(&mut c);
        c.snap
    }

    /// Adds every piece of `other` (state of other operators).
    pub fn extend(&mut self, other: Snapshot) {
        self.parts.extend(other.parts);
        self.names.extend(other.names);
    }

    /// Puts the captured state back into what `show` visits.
    ///
    /// # Errors
    /// [`StateError::Missing`] if a visited piece is not in the snapshot,
    /// [`StateError::Decode`] if it has another type, [`StateError::UnknownOperator`] if the
    /// snapshot holds a piece nothing visited.
    pub fn restore(&self, show: impl FnOnce(&mut dyn StateVisitor)) -> Result<(), StateError> {
        let mut r = Restore {
            snap: self,
            stack: Vec::new(),
            claimed: BTreeSet::new(),
            error: None,
        };
        show(&mut r);
        if let Some(e) = r.error {
            return Err(e);
        }
        if let Some((op, _)) = self.parts.keys().find(|k| !r.claimed.contains(k)) {
            return Err(StateError::UnknownOperator(*op));
        }
        Ok(())
    }

    /// The same snapshot with every operator id mapped by `f` (ids `f` maps to `None` keep
    /// theirs).
    pub fn remap(&self, f: impl Fn(OperatorId) -> Option<OperatorId>) -> Snapshot {
        let g = |id: OperatorId| f(id).unwrap_or(id);
        Snapshot {
            parts: self
                .parts
                .iter()
                .map(|((op, n), v)| ((g(*op), *n), v.clone_box()))
                .collect(),
            names: self
                .names
                .iter()
                .map(|(id, n)| (g(*id), n.clone()))
                .collect(),
        }
    }

    /// Operators with captured state, with their names.
    pub fn operators(&self) -> impl Iterator<Item = (OperatorId, &str)> {
        self.names.iter().map(|(id, n)| (*id, &**n))
    }

    /// Pieces captured.
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether nothing was captured.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The piece `name` of operator `op`, if captured and of type `T`.
    pub fn get<T: 'static>(&self, op: OperatorId, name: &str) -> Option<&T> {
        self.parts
            .iter()
            .find(|((o, n), _)| *o == op && *n == name)
            .and_then(|(_, v)| (**v).as_any().downcast_ref::<T>())
    }
}

struct Capture {
    snap: Snapshot,
    stack: Vec<OperatorId>,
}

impl StateVisitor for Capture {
    fn enter(&mut self, op: OperatorId, name: &Arc<str>) {
        self.stack.push(op);
        self.snap.names.entry(op).or_insert_with(|| name.clone());
    }

    fn leave(&mut self) {
        self.stack.pop();
    }

    fn visit(&mut self, name: &'static str, state: &mut dyn Registered) {
        let op = self.stack.last().copied().unwrap_or(NO_OPERATOR);
        self.snap.parts.insert((op, name), state.capture());
    }
}

struct Restore<'a> {
    snap: &'a Snapshot,
    stack: Vec<OperatorId>,
    claimed: BTreeSet<(OperatorId, &'static str)>,
    error: Option<StateError>,
}

impl StateVisitor for Restore<'_> {
    fn enter(&mut self, op: OperatorId, _name: &Arc<str>) {
        self.stack.push(op);
    }

    fn leave(&mut self) {
        self.stack.pop();
    }

    fn visit(&mut self, name: &'static str, state: &mut dyn Registered) {
        if self.error.is_some() {
            return;
        }
        let op = self.stack.last().copied().unwrap_or(NO_OPERATOR);
        match self.snap.parts.get(&(op, name)) {
            None => self.error = Some(StateError::Missing(op)),
            Some(v) => {
                if state.restore(&**v) {
                    self.claimed.insert((op, name));
                } else {
                    self.error = Some(StateError::Decode {
                        op,
                        reason: format!("piece `{name}` has another type"),
                    });
                }
            }
        }
    }
}
