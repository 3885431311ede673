//! `barrage capacity --serve CMD --vary NAME=V1,V2`: one capacity search per configuration
//! of the service (every combination of the `--vary` values), the service started before
//! and stopped after each, then the capacity per configuration as a table and a chart.

use crate::cli::CapacityArgs;

pub async fn run(args: CapacityArgs) -> u8 {
    todo!("sweep helper")
}
