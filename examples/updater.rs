//! A BITS update client run against a simulated machine: the server first answers 503, then fails
//! with ERROR_WINHTTP_CANNOT_CONNECT (12029) 2 MB into the transfer, the network goes down for a
//! while, the client process restarts in the middle — and the client finds its job again by name,
//! resumes it and installs the update.
//!
//! Run with `cargo run --example updater`. `tests/example_policy.rs` tests the same policy with the
//! testing kit under random worlds: that is how to test your own client.

#[path = "updater/policy.rs"] // shared with tests/example_policy.rs
mod policy;

use bitsim::Network;
use bitsim::{Remote, Response, Sim, World};
use policy::{Poll, UpdateConfig, Updater};

const URL: &str = "https://updates.example.test/app-2.0.msi";

fn main() -> Result<(), bitsim::HResult> {
    let world = World::new().bandwidth(25_000).remote(
        URL,
        // One scripted answer per connection attempt. The 12029 must fire before the network drop
        // (poll 5, t=240 s): 2 MB at 25 kB/s take 80 s from the second attempt at t=60 s, so the
        // connection breaks at t=140 s. (An attempt cut short by the network loss would consume the
        // script entry without ever reaching its byte count.)
        Remote::sized(30_000_000).with_responses([
            Response::http(503),
            Response::win32(12029).after_bytes(2_000_000),
        ]),
    );
    let sim = Sim::new(world);
    let alice = sim.user("alice");
    let config = UpdateConfig::new(URL);

    let mut manager = sim.connect("updater", alice)?;
    let mut updater: Updater<bitsim::Manager> =
        Updater::start(&mut manager, config.clone(), sim.now())?;
    let mut polls = 0u32;
    let outcome = loop {
        if let Poll::Done(outcome) = updater.poll(&mut manager, sim.now())? {
            break outcome;
        }
        polls += 1;
        match polls {
            5 => sim.set_network(Network::Down),
            9 => sim.set_network(Network::Up),
            14 => {
                // The client process restarts: a new process finds its job by display name.
                manager.exit()?;
                manager = sim.connect("updater", alice)?;
                updater = Updater::start(&mut manager, config.clone(), sim.now())?;
                println!(
                    "{} client restarted; jobs named {:?}: {}",
                    sim.now(),
                    config.name,
                    manager.enum_jobs(0)?.len()
                );
            }
            _ => {}
        }
        sim.advance(config.poll_interval);
    };
    println!("{} outcome: {outcome:?} after {polls} polls", sim.now());
    println!("trace:");
    for event in sim
        .trace()
        .iter()
        .filter(|e| e.job().is_some() || e.kind == bitsim::TraceKind::ServiceRestarted)
    {
        println!("  {event}");
    }
    Ok(())
}
