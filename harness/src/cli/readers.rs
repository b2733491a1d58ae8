//! `ssc-harness readers`: the PC/SC readers and the ATR of the card in each.

use std::time::Duration;

use super::Outcome;

pub(super) fn run(wait: Duration) -> anyhow::Result<Outcome> {
    let list = harness::transport::list_readers(wait)?;
    if list.is_empty() {
        println!("no PC/SC readers");
    }
    for (name, atr) in list {
        match atr {
            Some(atr) => println!("{name}\tcard present\tATR {}", apdu::hex_spaced(&atr)),
            None => println!("{name}\tno card"),
        }
    }
    Ok(Outcome::Passed)
}
