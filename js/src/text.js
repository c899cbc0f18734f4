// @ts-check
// What the widget says: captions, the status line, outcomes, the settings' summary, file names.
// Pure: no DOM, no model; tested with `node --test` (js/test/).

import { isBusy, optionalValue } from "./state.js";

/** What an action says when no kernel holds the widget (it was restarted or shut down). */
export const NOT_CONNECTED =
  "This widget is not connected to a running kernel (was it restarted?). Re-run its cell to use it again.";

/** @typedef {import("./types.js").Params} Params */
/** @typedef {import("./types.js").Status} Status */

/** Shown while the prompt is empty, as the Space's own page does. */
export const EXAMPLES = [
  "a tiny astronaut hatching from an egg on the moon",
  "a cat holding a sign that says hello world",
  "an anime illustration of a wiener schnitzel",
  "a watercolor lighthouse at dusk, soft light",
];

/**
 * "12:31" (or "1:02:03"): a wait in whole seconds, as the Space writes it.
 * @param {number} seconds
 */
export function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const mm = String(Math.floor((s % 3600) / 60)).padStart(s >= 3600 ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * The caption's parameters, a line of their own under the prompt: "seed 1 · 1024×1024 · 4 steps · 2.1 s",
 * with each optional parameter that was used, by its name and value.
 * @param {Params} params
 * @param {string[]} [optional] The optional parameters' names (`limits.optional`).
 */
export function describeParams(params, optional = []) {
  const steps = `${params.steps} step${params.steps === 1 ? "" : "s"}`;
  const used = optional.filter((name) => optionalValue(params, name) != null);
  return (
    `seed ${params.seed} · ${params.width}×${params.height} · ${steps}` +
    used.map((name) => ` · ${name} ${optionalValue(params, name)}`).join("") +
    (params.elapsed != null ? ` · ${Number(params.elapsed).toFixed(1)} s` : "")
  );
}

/**
 * @typedef {object} JobState What the status line is made of (a subset of the traits).
 * @property {Status} status
 * @property {number | null} queue_position
 * @property {number | null} eta
 * @property {number} step
 * @property {number} total_steps
 * @property {number} batch_size
 * @property {number} batch_done
 * @property {string} [detail] What the backend does first ("Loading model"), if anything.
 */

/**
 * "Next in line · about 5 s", "Step 2/4", "Starting…", or "" when idle.
 * @param {JobState} state
 */
export function describeJob(state) {
  if (state.status === "queued" && state.detail) return state.detail;
  if (state.status === "queued") {
    const position = state.queue_position;
    const place =
      position == null ? "Waiting for the Space" : position === 0 ? "Next in line" : `${position} ahead in the queue`;
    return state.eta != null && state.eta > 0 ? `${place} · about ${Math.ceil(state.eta)} s` : place;
  }
  if (state.status === "running") {
    return state.total_steps ? `Step ${Math.min(state.step, state.total_steps)}/${state.total_steps}` : "Starting…";
  }
  return "";
}

/**
 * The status line: "2 of 4 done · Step 3/8" during a batch, else the job's own.
 * @param {JobState} state
 */
export function describeStatus(state) {
  const job = describeJob(state);
  if (state.batch_size > 1 && isBusy(state.status)) {
    return `${state.batch_done} of ${state.batch_size} done${job ? ` · ${job}` : ""}`;
  }
  return job;
}

/**
 * The name a downloaded image gets: "flux-1234.webp".
 * @param {number | undefined} seed
 * @param {string} mimeType
 * @param {Record<string, string>} extensions
 */
export function downloadName(seed, mimeType, extensions) {
  return `flux-${seed}.${extensions[mimeType] || "img"}`;
}

/**
 * What the screen reader hears when a job ends (busy, then not), or "" for an error (the alert says it).
 * @param {{ status: Status | string, batch_size: number, batch_done: number, newImage: boolean }} state
 */
export function outcomeText({ status, batch_size, batch_done, newImage }) {
  if (status === "error") return "";
  if (batch_size > 1 && batch_done < batch_size) return `Cancelled · ${batch_done} of ${batch_size} made`;
  return newImage ? (batch_size > 1 ? `${batch_size} images ready` : "Image ready") : "Cancelled";
}

/**
 * The collapsed settings' summary: "1024×768 · 4 steps · random seed · 2 images".
 * `sized` false: the backend takes no size (an edit has its input's): "input's size · 28 steps · …".
 * @param {{ width: number, height: number, steps: number, seed: number, randomize_seed: boolean, count: number, sized?: boolean }} traits
 */
export function settingsSummary({ width, height, steps, seed, randomize_seed, count, sized = true }) {
  const parts = [sized ? `${width}×${height}` : "input's size", plural(steps, "step"), randomize_seed ? "random seed" : `seed ${seed}`];
  if (count > 1) parts.push(`${count} images`);
  return parts.join(" · ");
}

/**
 * What a Reuse action says it did, naming what it changed besides the image's own settings:
 * "Set: seed 3 · 1024×768 · 4 steps · 1 image (was 4) · Randomize seed off. Generate makes it again."
 * @param {Params} params The image's parameters.
 * @param {{ count?: number, randomize_seed?: boolean }} [before] The controls before Reuse.
 */
export function reuseText(params, before = {}) {
  const count = before.count != null && before.count > 1 ? `1 image (was ${before.count})` : "1 image";
  const randomize = before.randomize_seed ? " · Randomize seed off" : "";
  const inputs = params.images?.length ? ` · its ${plural(params.images.length, "input image")} in the tray` : "";
  return `Set: seed ${params.seed} · ${params.width}×${params.height} · ${plural(params.steps ?? 0, "step")} · ${count}${randomize}${inputs}. Generate makes it again.`;
}

/**
 * "1 image", "4 images".
 * @param {number} count
 * @param {string} noun
 */
export function plural(count, noun) {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * What a batch place says while it has no image.
 * @param {boolean} arriving Its image is known but not yet resolved.
 * @param {boolean} busy
 */
export function pendingLabel(arriving, busy) {
  return arriving ? "arriving…" : busy ? "waiting…" : "not made";
}

/**
 * How full the reference tray is: "2 of 4", or "2" while the backend's limit is unknown.
 * @param {number} count
 * @param {number | null | undefined} most
 */
export function trayCount(count, most) {
  if (most == null) return count ? String(count) : "";
  return `${count} of ${most}`;
}
