//! State the runtime owns: operators *register* their state (a keyed table, a value) instead of
//! serializing it, so the runtime decides when it is captured and how it is stored, and a chain
//! cannot lose a member's state.
//!
//! # Protocol
//!
//! - An operator shows its state in [`Operator::state`](crate::Operator::state) by calling
//!   [`StateVisitor::visit`] once per piece, with a name stable across versions of the job.
//! - [`Named`](crate::operator::Named) brackets its operator's visits with
//!   [`StateVisitor::enter`] / [`StateVisitor::leave`], so every piece is keyed by
//!   `(OperatorId, name)`; [`Then`](crate::operator::Then) visits both of its members.
//! - Capture ([`Snapshot::capture`]) runs on the data thread right after a barrier passed the
//!   operator: each piece is copied ([`Registered::capture`]), nothing is encoded there.
//!   Encoding and writing are the checkpoint store's business, off the data threads.
//! - Restore ([`Snapshot::restore`]) runs before `open`: every registered piece must be found
//!   in the snapshot with its type, and every piece of the snapshot must be claimed; otherwise
//!   a typed [`StateError`](lute_core::StateError) says which operator is at fault.
//!
//! - [`table`]: the keyed state table (hash index over dense entries) the window operator uses.
//! - [`snapshot`]: [`Snapshot`], captured state keyed by operator and name.

pub mod snapshot;
pub mod table;

pub use snapshot::Snapshot;
pub use table::{KeyedTable, StateHasher};

use lute_core::OperatorId;
use std::any::Any;
use std::sync::Arc;

/// A captured piece: a copy of a registered value, itself copyable.
pub trait Captured: Any + Send {
    /// Another copy.
    fn clone_box(&self) -> Box<dyn Captured>;
    /// The value, to downcast.
    fn as_any(&self) -> &dyn Any;
}

impl<T: Clone + Send + 'static> Captured for T {
    fn clone_box(&self) -> Box<dyn Captured> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A piece of registered state: it can be copied out and put back.
pub trait Registered: Send {
    /// A copy of the current value.
    fn capture(&self) -> Box<dyn Captured>;
    /// Replaces the value with a captured one; `false` if `from` is another type.
    fn restore(&mut self, from: &dyn Captured) -> bool;
}

impl<T: Clone + Send + 'static> Registered for T {
    fn capture(&self) -> Box<dyn Captured> {
        Box::new(self.clone())
    }

    fn restore(&mut self, from: &dyn Captured) -> bool {
        match from.as_any().downcast_ref::<T>() {
            Some(v) => {
                self.clone_from(v);
                true
            }
            None => false,
        }
    }
}

/// What the runtime passes to [`Operator::state`](crate::Operator::state).
pub trait StateVisitor {
    /// The pieces visited until the matching [`StateVisitor::leave`] belong to operator `op`.
    fn enter(&mut self, op: OperatorId, name: &Arc<str>);
    /// Ends the innermost [`StateVisitor::enter`].
    fn leave(&mut self);
    /// One piece of the current operator's state, under a name unique within the operator.
    fn visit(&mut self, name: &'static str, state: &mut dyn Registered);
}
