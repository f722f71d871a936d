//! Error domains shared by the runtime, state and transport. Conditions a caller may handle are
//! variants, never strings.

use crate::id::{EdgeId, OperatorId, WorkerId};

/// A link (one edge between two workers) failed or cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The other end of the link is gone (its worker stopped or its process died).
    #[error("edge {edge}: worker {peer} is gone")]
    PeerLost {
        /// The edge.
        edge: EdgeId,
        /// The worker at the other end.
        peer: WorkerId,
    },
    /// The other end closed the link before sending its end of stream.
    #[error("edge {edge}: worker {peer} stopped before ending its stream")]
    Truncated {
        /// The edge.
        edge: EdgeId,
        /// The sending worker.
        peer: WorkerId,
    },
    /// The link factory cannot carry this record type.
    #[error("edge {edge}: the link factory `{factory}` cannot carry `{type_name}`")]
    Unsupported {
        /// The edge.
        edge: EdgeId,
        /// The factory's name.
        factory: String,
        /// The record type.
        type_name: &'static str,
    },
    /// A link factory handed back endpoints of another record type than asked for.
    #[error(
        "edge {edge}: the link factory returned endpoints of the wrong type (wanted `{type_name}`)"
    )]
    WrongType {
        /// The edge.
        edge: EdgeId,
        /// The record type asked for.
        type_name: &'static str,
    },
    /// A message could not be encoded or decoded on a link that encodes.
    #[error("edge {edge}: {reason}")]
    Codec {
        /// The edge.
        edge: EdgeId,
        /// What went wrong.
        reason: String,
    },
    /// A ring capacity was refused.
    #[error("link capacity {capacity}: {reason}")]
    Capacity {
        /// The capacity asked for.
        capacity: usize,
        /// Why it was refused.
        reason: String,
    },
}

/// Registered state could not be captured or restored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// A snapshot names an operator this job does not have.
    #[error("state for operator {0}, which this job does not have")]
    UnknownOperator(OperatorId),
    /// An operator's state is not in the snapshot being restored.
    #[error("no state for operator {0} in the snapshot")]
    Missing(OperatorId),
    /// State bytes could not be decoded.
    #[error("operator {op}: cannot decode state: {reason}")]
    Decode {
        /// The operator.
        op: OperatorId,
        /// What went wrong.
        reason: String,
    },
    /// State could not be encoded.
    #[error("operator {op}: cannot encode state: {reason}")]
    Encode {
        /// The operator.
        op: OperatorId,
        /// What went wrong.
        reason: String,
    },
    /// A source cannot start from the position given.
    #[error("cannot seek to position {position}: {reason}")]
    Seek {
        /// The position asked for.
        position: u64,
        /// Why not.
        reason: String,
    },
}
