//! Browser side of the live room: one `EventSource` on `/live/incidents/{id}`. The
//! browser reconnects by itself and sends `Last-Event-ID`, so the server replays what
//! was missed.

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{EventSource, MessageEvent};

use super::model::{LiveEntry, Presence};
use super::pages::room::RoomSignals;

/// Opens the live stream of one incident, starting after entry `after_id`, and closes it
/// when the room is left.
pub fn connect(incident_id: i64, after_id: i64, signals: RoomSignals) {
    let url = format!("/live/incidents/{incident_id}?after={after_id}");
    let Ok(source) = EventSource::new(&url) else {
        leptos::logging::error!("could not open the live stream {url}");
        return;
    };

    let on_entry = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(data) = event.data().as_string() else {
            return;
        };
        match serde_json::from_str::<LiveEntry>(&data) {
            Ok(live) => signals.apply(live.entry, live.incident),
            Err(err) => leptos::logging::error!("unreadable live entry: {err}"),
        }
    });
    let on_presence = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let Some(data) = event.data().as_string() else {
            return;
        };
        if let Ok(presence) = serde_json::from_str::<Presence>(&data) {
            signals.viewers.set(presence.viewers);
        }
    });
    let on_open = Closure::<dyn FnMut()>::new(move || signals.connected.set(true));
    let on_error = Closure::<dyn FnMut()>::new(move || signals.connected.set(false));

    let _ = source.add_event_listener_with_callback("entry", on_entry.as_ref().unchecked_ref());
    let _ =
        source.add_event_listener_with_callback("presence", on_presence.as_ref().unchecked_ref());
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));

    // The closures must live as long as the stream; both go when the room is left.
    let owned = SendWrapper::new((source, on_entry, on_presence, on_open, on_error));
    on_cleanup(move || owned.0.close());
}
