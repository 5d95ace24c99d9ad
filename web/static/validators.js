// validators.js — the validators page (who is offline, who is slow: from
// GET /validators), the finality certificate summary (GET /finality), and
// the justified/final marks app.js puts on blocks. DOM helpers come from
// app.js (ui), so everything is still built from text nodes.

// finality holds the newest GET /finality answer: the final block and the
// justified checkpoints above it.
export const finality = { data: null, justified: new Set(), error: null };

// refreshFinality fetches GET /finality; it reports whether the marks
// changed. A node without a certificate yet (503) marks nothing.
export async function refreshFinality(api, signal) {
  let data = null;
  try {
    data = await api.request("/finality", { signal });
    finality.error = null;
  } catch (e) {
    if (e.name === "AbortError") return false;
    finality.error = e;
  }
  const ids = new Set();
  for (const cp of (data && Array.isArray(data.justified) ? data.justified : [])) ids.add(cp.id);
  const changed = (data && data.id) !== (finality.data && finality.data.id) || ids.size !== finality.justified.size || [...ids].some((id) => !finality.justified.has(id));
  finality.data = data;
  finality.justified = ids;
  return changed;
}

// mark says how final a block is: "final", "justified" (the block of a
// justified checkpoint above the final one) or "pending".
export function mark(b, final) {
  if (final) return "final";
  if (b && finality.justified.has(b.id)) return "justified";
  return "pending";
}

// markBadge renders mark(b, final) with app.js's badge().
export function markBadge(ui, b, final, id, long) {
  switch (mark(b, final)) {
    case "final":
      return ui.badge("finalized", long ? "finalized" : "final", id);
    case "justified":
      return ui.badge("justified", "justified", id);
    default:
      return ui.badge("pending", long ? "not finalized yet" : "not yet", id);
  }
}

// health classifies one validator over the window: offline when no vote of
// it was seen lately and it filled none of the slots it led; slow when it
// missed some slots or votes; online otherwise.
export function health(v, w) {
  const slot = Number(w.slot);
  const span = Math.max(1, Number(w.window_to) - Number(w.window_from) + 1);
  const lastVote = v.last_vote_epoch === null || v.last_vote_epoch === undefined ? null : Number(v.last_vote_epoch);
  const quiet = lastVote === null || slot - lastVote > 10;
  const led = Number(v.led_slots) || 0;
  const missed = Number(v.missed_slots) || 0;
  if (quiet && (led === 0 || missed === led)) return "offline";
  if (missed > 0 || Number(v.missed_votes) > span / 20) return "slow";
  return "online";
}

const HEALTH_WORDS = {
  online: "online",
  slow: "slow",
  offline: "offline",
};

function ago(slot, at) {
  if (at === null || at === undefined) return "never seen";
  const d = Number(slot) - Number(at);
  return d <= 0 ? `${at} (now)` : `${at} (${d} slot${d === 1 ? "" : "s"} ago)`;
}

// viewValidators renders the validators page and refreshes it every pollMs
// until ctx is aborted.
export function viewValidators(view, ctx, ui, pollMs) {
  const { h, fill, table, addrLink, blockLink, badge, errorBox, api, sleep, shortHash } = ui;
  view.append(
    h("h1", { text: "Validators" }),
    h("p", { class: "muted" }, "Every genesis miner in schedule order. A slot is missed when its leader sealed no block of it on the canonical chain; a vote is missed for an epoch this node saw no vote of the validator for (epochs are slots; votes are counted since this node started)."),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { text: "Activity" }), h("span", { class: "muted small", id: "validators-window" })), h("div", { id: "validators-wrap" }, h("p", { class: "muted", text: "Loading…" }))),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { text: "Finality" })), h("div", { id: "finality-wrap" }, h("p", { class: "muted", text: "Loading…" }))),
  );

  const renderValidators = (w) => {
    ui.setText("validators-window", `epochs ${w.window_from}–${w.window_to}, current slot ${w.slot}`);
    const list = Array.isArray(w.validators) ? w.validators : [];
    const rows = list.map((v, i) => {
      const state = health(v, w);
      return {
        attrs: { "data-test": "validator-row", "data-address": v.address, "data-health": state },
        cells: [
          String(i),
          addrLink(v.address, false),
          h("span", { class: `badge badge-${state}`, "data-status": state, text: HEALTH_WORDS[state] }),
          ago(w.slot, v.last_sealed_slot),
          ago(w.slot, v.last_vote_epoch),
          `${v.missed_slots} of ${v.led_slots}`,
          String(v.missed_votes),
          Number(v.evidence) > 0 ? h("a", { href: "#/validators", class: "badge badge-dropped", text: String(v.evidence), title: "GET /evidence has the signed messages" }) : "0",
        ],
      };
    });
    fill(ui.$("validators-wrap"), table("validators", ["#", "Validator", "Health", "Last sealed slot", "Last vote epoch", "Missed slots", "Missed votes", "Evidence"], rows, "No validators."));
  };

  const renderFinality = () => {
    const f = finality.data;
    if (!f) {
      fill(ui.$("finality-wrap"), h("p", { class: "muted", id: "finality-none", text: finality.error ? "No finality certificate yet: " + (finality.error.human || finality.error.message) : "Loading…" }));
      return;
    }
    const voters = Array.isArray(f.votes) ? f.votes.map((v) => v.voter) : [];
    const just = Array.isArray(f.justified) ? f.justified : [];
    fill(
      ui.$("finality-wrap"),
      h(
        "dl",
        { class: "kv" },
        ui.kv("Final block", "finality-block", h("span", null, blockLink(f.id, `#${f.header && f.header.number}`), " ", h("span", { class: "mono", text: shortHash(f.id) }))),
        ui.kv("Link", "finality-link", `epoch ${f.source && f.source.epoch} → ${f.target && f.target.epoch}`),
        ui.kv("Votes", "finality-votes", h("span", null, `${voters.length} of ${f.miners} validators (quorum ${f.quorum}): `, voters.map((a, i) => [i ? ", " : "", addrLink(a)]))),
        ui.kv("Justified above it", "finality-justified", just.length ? just.map((cp, i) => [i ? ", " : "", blockLink(cp.id, `epoch ${cp.epoch}`)]) : "none"),
      ),
    );
  };

  (async () => {
    while (!ctx.signal.aborted) {
      try {
        const w = await api.request("/validators", { signal: ctx.signal });
        renderValidators(w);
        ui.$("view-error")?.remove();
      } catch (e) {
        if (e.name === "AbortError") return;
        if (!ui.$("view-error")) view.prepend(errorBox(e));
      }
      await refreshFinality(api, ctx.signal);
      if (ctx.signal.aborted) return;
      renderFinality();
      await sleep(pollMs, ctx.signal);
    }
  })();
}
