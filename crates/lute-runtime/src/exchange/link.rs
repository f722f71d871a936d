//! Links: the endpoints of one edge between two workers ([`Outlet`] / [`Inlet`]), and the
//! [`LinkFactory`] planning asks for them.
//!
//! # Contract of a link
//!
//! A link carries one sender's [`Message`]s to one receiver: bounded (a full link hands the
//! message back, and the sender keeps it pending: that is backpressure), ordered (messages
//! arrive in the order sent), non-blocking on both ends, and a link whose other end is gone
//! says so (`Disconnected`) instead of waiting. Sender and receiver make one dynamic call per
//! message (a batch or a marker), never per record.
//!
//! # The factory
//!
//! Planning asks the job's [`LinkFactory`] (set with [`crate::Config::links`]) for the
//! endpoints of every `(edge, from worker, to worker)` ([`LinkId`]), passing the record type by
//! name and id and a constructor of the in-process SPSC pair. [`InProcess`] (the default)
//! answers with that pair: a `lute-sync` SPSC ring. A transport answers with its own endpoints
//! for links that cross processes; it can carry only the record types it knows how to encode
//! (it says [`LinkError::Unsupported`] for the others), so the encoding bound sits on that
//! implementation only, never on the builder API.

use super::chunk::Message;
use crate::error::LinkError;
use lute_core::{EdgeId, WorkerId};
use lute_sync::{PopError, PushError, spsc};
use std::any::{Any, TypeId};

/// The sending end of a link (see the module docs).
pub trait Outlet<M>: Send {
    /// Sends `m` now, or hands it back.
    ///
    /// # Errors
    /// `Full(m)` when the link has no room; `Disconnected(m)` when the receiver is gone.
    fn try_send(&mut self, m: M) -> Result<(), PushError<M>>;
}

/// The receiving end of a link (see the module docs).
pub trait Inlet<M>: Send {
    /// The next message, if one has arrived.
    ///
    /// # Errors
    /// `Empty` when nothing has arrived; `Disconnected` when the sender is gone and nothing
    /// is left.
    fn try_recv(&mut self) -> Result<M, PopError>;
}

impl<M: Send> Outlet<M> for spsc::Producer<M> {
    #[inline]
    fn try_send(&mut self, m: M) -> Result<(), PushError<M>> {
        self.try_push(m)
    }
}

impl<M: Send> Inlet<M> for spsc::Consumer<M> {
    #[inline]
    fn try_recv(&mut self) -> Result<M, PopError> {
        self.try_pop()
    }
}

/// A boxed sending end of a link carrying records of `T`.
pub type LinkSender<T> = Box<dyn Outlet<Message<T>>>;
/// A boxed receiving end of a link carrying records of `T`.
pub type LinkReceiver<T> = Box<dyn Inlet<Message<T>>>;

/// One link: an edge of the job and the two workers it connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId {
    /// The edge (numbered in build order).
    pub edge: EdgeId,
    /// The sending worker.
    pub from: WorkerId,
    /// The receiving worker.
    pub to: WorkerId,
}

/// What planning asks a [`LinkFactory`] for.
#[derive(Debug, Clone, Copy)]
pub struct LinkSpec {
    /// Which link.
    pub id: LinkId,
    /// Messages (batches and markers) the link holds; a power of two.
    pub capacity: usize,
    /// The record type's name (for errors and `explain`).
    pub type_name: &'static str,
    /// The record type.
    pub type_id: TypeId,
}

/// The two endpoints of a link, of a record type known only at run time (so the factory
/// trait stays object-safe); [`Endpoints::typed`] recovers them.
pub struct Endpoints(Box<dyn Any + Send>);

impl std::fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Endpoints(..)")
    }
}

impl Endpoints {
    /// Wraps the endpoints of a link carrying `T`.
    pub fn new<T: 'static>(tx: LinkSender<T>, rx: LinkReceiver<T>) -> Self {
        Self(Box::new((tx, rx)))
    }

    /// The endpoints, if they carry `T`.
    ///
    /// # Errors
    /// [`LinkError::WrongType`] if the factory made endpoints of another type.
    pub fn typed<T: 'static>(
        self,
        spec: &LinkSpec,
    ) -> Result<(LinkSender<T>, LinkReceiver<T>), LinkError> {
        self.0
            .downcast::<(LinkSender<T>, LinkReceiver<T>)>()
            .map(|b| *b)
            .map_err(|_| LinkError::WrongType {
                edge: spec.id.edge,
                type_name: spec.type_name,
            })
    }
}

/// Makes the endpoints of every link of a job (see the module docs).
pub trait LinkFactory: Send + Sync {
    /// A short name, shown by `explain` for every edge.
    fn name(&self) -> &str;

    /// The endpoints of `spec.id`. `in_process` makes the in-process SPSC pair for the same
    /// link (a factory may use it for links that stay in this process).
    ///
    /// # Errors
    /// [`LinkError::Unsupported`] for a record type this factory cannot carry; any other
    /// [`LinkError`] if the link cannot be made.
    fn link(
        &self,
        spec: &LinkSpec,
        in_process: &dyn Fn() -> Result<Endpoints, LinkError>,
    ) -> Result<Endpoints, LinkError>;
}

/// Links inside this process: one `lute-sync` SPSC ring per link (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl LinkFactory for InProcess {
    fn name(&self) -> &str {
        "in-process SPSC ring"
    }

    fn link(
        &self,
        _spec: &LinkSpec,
        in_process: &dyn Fn() -> Result<Endpoints, LinkError>,
    ) -> Result<Endpoints, LinkError> {
        in_process()
    }
}

/// The in-process pair for `spec`: an SPSC ring of `spec.capacity` messages that releases
/// every pop (a link carries whole batches, so lazy release would save little, and a sender
/// that sees a full link queues messages in its pending queue).
///
/// # Errors
/// [`LinkError::Capacity`] if the ring refuses the capacity.
pub fn spsc_pair<T: Send + 'static>(spec: &LinkSpec) -> Result<Endpoints, LinkError> {
    let (tx, rx) = spsc::channel_releasing::<Message<T>>(spec.capacity, 1).map_err(|e| {
        LinkError::Capacity {
            capacity: spec.capacity,
            reason: e.to_string(),
        }
    })?;
    Ok(Endpoints::new::<T>(Box::new(tx), Box::new(rx)))
}

/// Asks `factory` for the typed endpoints of link `id`.
///
/// # Errors
/// The factory's [`LinkError`], or [`LinkError::WrongType`].
pub fn make<T: Send + 'static>(
    factory: &dyn LinkFactory,
    id: LinkId,
    capacity: usize,
) -> Result<(LinkSender<T>, LinkReceiver<T>), LinkError> {
    let spec = LinkSpec {
        id,
        capacity,
        type_name: std::any::type_name::<T>(),
        type_id: TypeId::of::<T>(),
    };
    factory
        .link(&spec, &|| spsc_pair::<T>(&spec))?
        .typed::<T>(&spec)
}

/// The job's link factory (a shared handle; see [`crate::Config::links`]).
#[derive(Clone)]
pub struct Links(pub std::sync::Arc<dyn LinkFactory>);

impl Default for Links {
    fn default() -> Self {
        Self(std::sync::Arc::new(InProcess))
    }
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Links({})", self.0.name())
    }
}
