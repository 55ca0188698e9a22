//! [`DataNodes`]: one HTTP/2 connection per datanode, shared by every block
//! read and write of a client (or of a datanode forwarding a pipeline), so a
//! block costs a stream, not a TCP and HTTP/2 handshake.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::transport::Channel;

use super::{DataNodeConn, datanode_client, endpoint};
use crate::error::Result;
use crate::secret::Secret;

/// Connections to datanodes by address, carrying the cluster secret.
#[derive(Debug, Clone)]
pub struct DataNodes {
    secret: Secret,
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl DataNodes {
    pub fn new(secret: Secret) -> DataNodes {
        DataNodes { secret, channels: Arc::default() }
    }

    /// A client of the datanode at `addr` (connecting on first use).
    pub fn get(&self, addr: &str) -> Result<DataNodeConn> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        let channel = match channels.get(addr) {
            Some(c) => c.clone(),
            None => {
                let c = endpoint(addr)?.connect_lazy();
                channels.insert(addr.to_string(), c.clone());
                c
            }
        };
        Ok(datanode_client(channel, &self.secret))
    }

    /// Drop the connection to `addr` after it failed (the next use reconnects).
    pub fn forget(&self, addr: &str) {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).remove(addr);
    }
}
