//! Pages of the incident room: the list, the declare form and the room itself.

pub mod declare;
pub mod list;
pub mod public;
pub mod room;
