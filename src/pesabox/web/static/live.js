// Live updates for pesabox's pages, over Server-Sent Events. No build step: plain ES2017.
//
// A region of a page declares where its fresh HTML comes from and which stream says it
// changed:
//   <section id="inbox" data-live-events="/ui/phone/2547.../events"
//            data-live-fragment="/ui/phone/2547.../inbox">...</section>
// On every `change` event the fragment is fetched and swapped in, unless the user is typing
// inside that region, checked both before the fetch and when its answer arrives (the swap
// then waits until focus leaves the region).
"use strict";

(function () {
  const streams = new Map();

  function subscribe(url, onChange) {
    let listeners = streams.get(url);
    if (!listeners) {
      listeners = [];
      streams.set(url, listeners);
      const source = new EventSource(url);
      source.addEventListener("change", () => listeners.forEach((fn) => fn()));
    }
    listeners.push(onChange);
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)pesabox_csrf=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // The user is at work in a region when focus is inside it: swapping its HTML then would
  // wipe what is being typed or move the button being clicked.
  function busy(region) {
    const active = document.activeElement;
    return Boolean(active && active !== region && region.contains(active));
  }

  async function refresh(region) {
    if (busy(region)) {
      region.dataset.liveStale = "1";
      return;
    }
    let html;
    try {
      const reply = await fetch(region.dataset.liveFragment, {
        headers: { accept: "text/html" },
        credentials: "same-origin",
      });
      if (!reply.ok) throw new Error(`fragment answered ${reply.status}`);
      html = await reply.text();
    } catch (error) {
      // Tried again at the next event, or when focus leaves the region.
      region.dataset.liveStale = "1";
      return;
    }
    // Checked again: the user may have started typing while the fragment was on its way.
    if (busy(region)) {
      region.dataset.liveStale = "1";
      return;
    }
    if (html !== region.dataset.liveLast) {
      region.dataset.liveLast = html;
      region.innerHTML = html;
      region.dispatchEvent(new CustomEvent("pesabox:updated", { bubbles: true }));
    }
    delete region.dataset.liveStale;
  }

  function start(region) {
    subscribe(region.dataset.liveEvents, () => refresh(region));
    region.addEventListener("focusout", () => {
      setTimeout(() => {
        if (region.dataset.liveStale && !region.contains(document.activeElement)) {
          refresh(region);
        }
      }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live-events][data-live-fragment]").forEach(start);
  });

  window.pesabox = { subscribe, refresh, csrfToken };
})();
