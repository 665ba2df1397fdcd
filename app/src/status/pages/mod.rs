//! Pages of the status page inside Warroom (the public page itself is served by the server).

pub mod admin;
pub mod maintenance;
