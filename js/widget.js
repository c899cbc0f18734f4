// flux-widget frontend: a plain ES module for anywidget.
// Everything it shows is a trait or arrives in a message; it keeps no state of its own beyond
// the DOM. User and Space text is always set with textContent, never parsed as HTML.

const PRESETS = [
  ["1:1", 1, 1],
  ["4:3", 4, 3],
  ["3:4", 3, 4],
  ["16:9", 16, 9],
  ["9:16", 9, 16],
];
const SIZE_STEP = 32;
const MIN_SIZE = 256;
const MAX_SIZE = 2048;
const MAX_SEED = 2147483647;
const CONTROLS = ["prompt", "width", "height", "steps", "seed", "randomize_seed", "guidance"];
const ENTRY_FIELDS = ["prompt", "seed", "width", "height", "steps", "thumbnail"];
const MODEL_REF = "IPY_MODEL_";
const DISCONNECTED_AFTER_MS = 4000;
const SUPPRESS = "data-lm-suppress-shortcuts";
/** Shown while the prompt is empty, as the Space's own page does. */
const EXAMPLES = [
  "a tiny astronaut hatching from an egg on the moon",
  "a cat holding a sign that says hello world",
  "an anime illustration of a wiener schnitzel",
  "a watercolor lighthouse at dusk, soft light",
];
const EXTENSIONS = { "image/webp": "webp", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif" };

/** Create an element with properties, attributes (prefixed "@") and children. */
function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key.startsWith("@")) node.setAttribute(key.slice(1), value);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

/** Ctrl+S or Cmd+S: the one notebook shortcut that works from inside the widget. */
function isSave(event) {
  return (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s";
}

/** A labelled number input. */
function numberField(label, name, min, max, step) {
  const input = h("input", { type: "number", min, max, step, className: "flux-input", name });
  const field = h("label", { className: "flux-field" }, [h("span", { className: "flux-label", textContent: label }), input]);
  return { field, input };
}

/** Snap a size the way the Space's sliders do (Python snaps too; this keeps presets tidy). */
function snap(size) {
  return Math.min(MAX_SIZE, Math.max(MIN_SIZE, Math.round(size / SIZE_STEP) * SIZE_STEP));
}

/** Copy text, falling back to a hidden textarea where the clipboard API is unavailable (VS Code). */
async function copyText(text, root) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { value: text, className: "flux-offscreen", readOnly: true });
    root.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

/** Put the shown image on the clipboard as PNG; the text a button should say afterwards. */
async function copyPicture(img) {
  if (!navigator.clipboard?.write || typeof ClipboardItem === "undefined") return "Copy not allowed here";
  // The PNG is made in a promise handed to ClipboardItem, so the click still counts as the user's.
  const png = new Promise((resolve, reject) => {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext("2d").drawImage(img, 0, 0);
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no PNG"))), "image/png");
  });
  try {
    await navigator.clipboard.write([new ClipboardItem({ "image/png": png })]);
    return "Copied";
  } catch {
    return "Copy not allowed here";
  }
}

function describeStatus(model) {
  const status = model.get("status");
  if (status === "queued") {
    const position = model.get("queue_position");
    const eta = model.get("eta");
    const place = position == null ? "Waiting for the Space" : position === 0 ? "Next in line" : `${position} ahead in the queue`;
    return eta != null && eta > 0 ? `${place} · about ${Math.ceil(eta)} s` : place;
  }
  if (status === "running") {
    const total = model.get("total_steps");
    return total ? `Step ${Math.min(model.get("step"), total)}/${total}` : "Starting…";
  }
  return "";
}

function render({ model, el }) {
  const controller = new AbortController();
  const listen = (target, type, handler, capture = false) =>
    target.addEventListener(type, handler, { signal: controller.signal, capture });
  const modelHandlers = [];
  const watch = (names, handler) => {
    for (const name of names) {
      model.on(`change:${name}`, handler);
      modelHandlers.push([`change:${name}`, handler]);
    }
    handler();
  };
  let imageUrl = null;
  let copiedTimer = null;
  let copiedImageTimer = null;
  let rovingIndex = null; // the history entry that is the list's one tab stop
  let pendingFocus = null; // the entry to focus once the list is drawn again
  let answerTimer = null;
  let lastStatus = model.get("status");
  let announcedIndex = (model.get("current") || {}).index;

  // ---------------------------------------------------------------- controls
  const promptInput = h("textarea", {
    className: "flux-input flux-prompt",
    rows: 2,
    placeholder: "A tiny astronaut hatching from an egg on the moon",
    name: "prompt",
    dir: "auto",
  });
  const promptField = h("label", { className: "flux-field flux-prompt-field" }, [
    h("span", { className: "flux-label", textContent: "Prompt" }),
    promptInput,
  ]);
  const width = numberField("Width", "width", MIN_SIZE, MAX_SIZE, SIZE_STEP);
  const height = numberField("Height", "height", MIN_SIZE, MAX_SIZE, SIZE_STEP);
  const steps = numberField("Steps", "steps", 1, 50, 1);
  // Shown only for Spaces that take a guidance scale (FLUX.1-dev); empty means the Space's default.
  const guidance = numberField("Guidance", "guidance", 0, 100, 0.1);
  guidance.input.placeholder = "Space default";
  guidance.field.classList.add("flux-guidance-field");
  const seed = numberField("Seed", "seed", 0, MAX_SEED, 1);
  seed.field.classList.add("flux-seed-field");
  const presetButtons = PRESETS.map(([label, w, hgt]) =>
    h("button", { type: "button", className: "flux-preset", textContent: label, title: `Aspect ${label}` }, []),
  );
  const presets = h("div", { className: "flux-presets", "@role": "group", "@aria-label": "Aspect ratio" }, presetButtons);
  const randomize = h("input", { type: "checkbox", className: "flux-checkbox", name: "randomize_seed" });
  const randomizeField = h("label", { className: "flux-check" }, [randomize, h("span", { textContent: "Randomize seed" })]);
  const generateButton = h("button", { type: "button", className: "flux-button flux-generate", textContent: "Generate" });
  const cancelButton = h("button", { type: "button", className: "flux-button flux-cancel", textContent: "Cancel" });

  const exampleButtons = EXAMPLES.map((text) =>
    h("button", { type: "button", className: "flux-example", textContent: text }),
  );
  const examples = h("div", { className: "flux-examples", "@role": "group", "@aria-label": "Examples" }, [
    h("span", { className: "flux-label", textContent: "Try" }),
    ...exampleButtons,
  ]);

  const controls = h("div", { className: "flux-controls" }, [
    promptField,
    examples,
    h("div", { className: "flux-row" }, [width.field, height.field, presets]),
    h("div", { className: "flux-row" }, [steps.field, guidance.field, seed.field, randomizeField]),
    h("div", { className: "flux-row flux-actions" }, [generateButton, cancelButton]),
  ]);

  // ---------------------------------------------------------------- status, error, result, history
  const progressFill = h("div", { className: "flux-progress-fill" });
  const progressBar = h(
    "div",
    { className: "flux-progress", "@role": "progressbar", "@aria-label": "Generation progress", "@aria-valuemin": "0", "@aria-valuemax": "100" },
    [progressFill],
  );
  const statusText = h("span", { className: "flux-status-text", "@aria-live": "polite" });
  const statusRow = h("div", { className: "flux-status" }, [progressBar, statusText]);
  const errorText = h("span", { className: "flux-error-text" });
  const dismissError = h("button", { type: "button", className: "flux-link flux-dismiss", textContent: "Dismiss" });
  dismissError.setAttribute("aria-label", "Dismiss error");
  const errorBox = h("div", { className: "flux-error", "@role": "alert" }, [errorText, dismissError]);

  const image = h("img", { className: "flux-image", alt: "" });
  const caption = h("span", { className: "flux-caption" });
  const download = h("a", { className: "flux-link flux-download", textContent: "Download" });
  const copySeed = h("button", { type: "button", className: "flux-link flux-copy-seed", textContent: "Copy seed" });
  const reuseSeed = h("button", { type: "button", className: "flux-link flux-reuse-seed", textContent: "Reuse seed" });
  const copyImage = h("button", { type: "button", className: "flux-link flux-copy-image", textContent: "Copy image" });
  const result = h("figure", { className: "flux-result" }, [
    image,
    h("figcaption", { className: "flux-figcaption" }, [caption, h("span", { className: "flux-result-actions" }, [download, copyImage, copySeed, reuseSeed])]),
  ]);
  const historyList = h("ul", { className: "flux-history", "@role": "list", "@aria-label": "History" });
  // Always present (the status row hides when idle), so outcomes are announced to screen readers.
  const announcer = h("div", { className: "flux-offscreen", "@aria-live": "polite", "@role": "status" });
  const notice = h("div", { className: "flux-notice", "@role": "alert" });
  notice.hidden = true;
  const source = h("div", { className: "flux-source" });

  const root = h("div", { className: "flux-widget" }, [
    controls,
    statusRow,
    errorBox,
    notice,
    result,
    historyList,
    source,
    announcer,
  ]);
  el.replaceChildren(root);

  // ---------------------------------------------------------------- controls -> traits
  const setTraits = (values) => {
    for (const [name, value] of Object.entries(values)) model.set(name, value);
    model.save_changes();
  };
  const generate = () => {
    if (generateButton.disabled) return;
    setTraits({ prompt: promptInput.value });
    // Trait updates are serialized asynchronously and can reach the kernel after a custom
    // message sent at the same moment: the request carries the values it was made with.
    const params = Object.fromEntries(CONTROLS.map((name) => [name, model.get(name)]));
    model.send({ type: "generate", params });
    // A live kernel answers at once (the status leaves "idle"); silence means no kernel holds this
    // widget any more, e.g. after a restart. Say so instead of looking alive.
    clearTimeout(answerTimer);
    const before = model.get("status");
    answerTimer = setTimeout(() => {
      if (model.get("status") === before && before !== "queued" && before !== "running") {
        notice.textContent =
          "This widget is not connected to a running kernel (was it restarted?). Re-run its cell to use it again.";
        notice.hidden = false;
      }
    }, DISCONNECTED_AFTER_MS);
  };

  listen(promptInput, "input", () => {
    setTraits({ prompt: promptInput.value });
    examples.hidden = promptInput.value.trim() !== "";
  });
  listen(promptInput, "keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      generate();
    }
  });
  // Keys typed in the widget are the widget's: the notebook's shortcuts (d d, b, arrows, Shift+Enter)
  // must not act on its cell, and Ctrl/Cmd+S must still save. Lumino skips shortcuts for a key whose
  // target carries SUPPRESS; this listener (window, capture) runs before the notebook's, in
  // JupyterLab (which listens while bubbling) and Notebook 7 (which listens while capturing).
  listen(
    window,
    "keydown",
    (event) => {
      const target = event.target;
      if (!(target instanceof Element) || !root.contains(target)) return;
      if (isSave(event)) target.removeAttribute(SUPPRESS);
      else target.setAttribute(SUPPRESS, "true");
    },
    true,
  );
  // ...and JupyterLab's own bubbling listeners (Shift+Enter runs the cell) never see them.
  listen(root, "keydown", (event) => {
    if (!isSave(event)) event.stopPropagation();
  });
  for (const [input, name] of [
    [width.input, "width"],
    [height.input, "height"],
    [steps.input, "steps"],
    [seed.input, "seed"],
  ]) {
    listen(input, "change", () => {
      const value = Math.round(Number(input.value)); // "1e3" is 1000, as the field shows it
      if (input.value.trim() !== "" && Number.isFinite(value)) setTraits({ [name]: value });
      input.value = String(model.get(name)); // the value actually used (Python snaps and clamps it too)
    });
  }
  listen(guidance.input, "change", () => {
    const value = Number.parseFloat(guidance.input.value);
    setTraits({ guidance: guidance.input.value.trim() === "" || !Number.isFinite(value) ? null : value });
  });
  listen(randomize, "change", () => setTraits({ randomize_seed: randomize.checked }));
  presetButtons.forEach((button, i) => {
    const [, w, hgt] = PRESETS[i];
    listen(button, "click", () => {
      const side = Math.max(model.get("width"), model.get("height"));
      setTraits(w >= hgt ? { width: snap(side), height: snap((side * hgt) / w) } : { width: snap((side * w) / hgt), height: snap(side) });
    });
  });
  listen(generateButton, "click", generate);
  listen(cancelButton, "click", () => model.send({ type: "cancel" }));
  listen(copySeed, "click", async () => {
    const current = model.get("current") || {};
    if (current.seed == null) return;
    const copied = await copyText(String(current.seed), root);
    copySeed.textContent = copied ? "Copied" : `Seed ${current.seed}`;
    clearTimeout(copiedTimer);
    copiedTimer = setTimeout(() => {
      copySeed.textContent = "Copy seed";
    }, 1500);
  });
  for (const button of exampleButtons) {
    listen(button, "click", () => {
      setTraits({ prompt: button.textContent });
      promptInput.focus();
    });
  }
  listen(dismissError, "click", () => {
    model.send({ type: "dismiss" });
    promptInput.focus();
  });
  listen(root, "keydown", (event) => {
    const status = model.get("status");
    if (event.key === "Escape" && (status === "queued" || status === "running")) {
      event.preventDefault();
      model.send({ type: "cancel" });
    }
  });
  listen(copyImage, "click", async () => {
    copyImage.textContent = await copyPicture(image);
    clearTimeout(copiedImageTimer);
    copiedImageTimer = setTimeout(() => {
      copyImage.textContent = "Copy image";
    }, 1500);
  });
  listen(reuseSeed, "click", () => {
    const current = model.get("current") || {};
    if (current.seed != null) setTraits({ seed: current.seed, randomize_seed: false });
  });
  listen(historyList, "click", (event) => {
    const item = event.target.closest("[data-index]");
    if (!item) return;
    const index = Number(item.dataset.index);
    model.send({ type: event.target.closest(".flux-remove") ? "remove" : "select", index });
  });
  // The history is one tab stop; arrows, Home and End move inside it, Delete removes an entry.
  listen(historyList, "keydown", (event) => {
    const buttons = [...historyList.querySelectorAll(".flux-history-button")];
    const at = buttons.indexOf(event.target.closest(".flux-history-button"));
    if (at < 0) return;
    const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0 };
    moves.End = buttons.length - 1;
    if (event.key in moves) {
      event.preventDefault();
      const next = buttons[Math.max(0, Math.min(buttons.length - 1, moves[event.key]))];
      rovingIndex = Number(next.closest("[data-index]").dataset.index);
      for (const button of buttons) button.tabIndex = button === next ? 0 : -1;
      next.focus();
    } else if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      const index = Number(buttons[at].closest("[data-index]").dataset.index);
      const neighbour = buttons[at + 1] || buttons[at - 1];
      const kept = neighbour ? Number(neighbour.closest("[data-index]").dataset.index) : null;
      // Indexes after the removed one shift down by one once Python has removed it.
      pendingFocus = kept == null ? null : kept > index ? kept - 1 : kept;
      rovingIndex = pendingFocus;
      model.send({ type: "remove", index });
    }
  });

  // ---------------------------------------------------------------- traits -> view
  watch(["prompt"], () => {
    if (promptInput.value !== model.get("prompt")) promptInput.value = model.get("prompt");
    examples.hidden = model.get("prompt").trim() !== "";
  });
  watch(["source"], () => {
    source.textContent = model.get("source") ? `Images from ${model.get("source")}` : "";
  });
  watch(["guidance", "space_parameters"], () => {
    const value = model.get("guidance");
    guidance.input.value = value == null ? "" : String(value);
    guidance.field.hidden = !(model.get("space_parameters") || []).includes("guidance_scale");
  });
  watch(["width", "height", "steps", "seed"], () => {
    width.input.value = String(model.get("width"));
    height.input.value = String(model.get("height"));
    steps.input.value = String(model.get("steps"));
    seed.input.value = String(model.get("seed"));
    const ratio = model.get("width") / model.get("height");
    presetButtons.forEach((button, i) => {
      const [, w, hgt] = PRESETS[i];
      button.setAttribute("aria-pressed", String(Math.abs(ratio - w / hgt) < 0.02));
    });
  });
  watch(["randomize_seed"], () => {
    randomize.checked = model.get("randomize_seed");
    seed.input.disabled = model.get("randomize_seed");
  });
  watch(["status", "queue_position", "eta", "step", "total_steps", "progress", "error"], () => {
    const status = model.get("status");
    const busy = status === "queued" || status === "running";
    const wasBusy = lastStatus === "queued" || lastStatus === "running";
    const focused = document.activeElement;
    root.dataset.status = status;
    if (status !== "idle" || wasBusy) {
      notice.hidden = true; // the kernel answered
      clearTimeout(answerTimer);
    }
    generateButton.disabled = busy;
    cancelButton.disabled = !busy;
    // A button that disables itself would drop focus to the page: hand it to its partner.
    if (busy && focused === generateButton) cancelButton.focus();
    if (!busy && focused === cancelButton) generateButton.focus();
    if (wasBusy && !busy) {
      const current = model.get("current") || {};
      announcer.textContent =
        status === "error" ? "" : current.index != null && current.index !== announcedIndex ? "Image ready" : "Cancelled";
      announcedIndex = current.index;
    }
    lastStatus = status;
    statusRow.hidden = !busy;
    statusText.textContent = describeStatus(model);
    const percent = Math.round(model.get("progress") * 100);
    progressBar.classList.toggle("flux-indeterminate", status === "queued" || (busy && !model.get("total_steps")));
    progressBar.setAttribute("aria-valuenow", String(percent));
    progressFill.style.width = `${percent}%`;
    errorText.textContent = model.get("error");
    errorBox.hidden = !model.get("error");
  });
  watch(["image", "image_type", "current"], () => {
    const bytes = model.get("image");
    const current = model.get("current") || {};
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    imageUrl = null;
    if (!bytes || bytes.byteLength === 0) {
      result.hidden = true;
      image.removeAttribute("src");
      return;
    }
    const type = model.get("image_type") || "image/webp";
    imageUrl = URL.createObjectURL(new Blob([bytes], { type }));
    image.src = imageUrl;
    image.alt = current.prompt || "";
    image.width = current.width || 0;
    image.height = current.height || 0;
    caption.replaceChildren(
      h("bdi", { className: "flux-caption-prompt", textContent: current.prompt || "", dir: "auto" }),
      h("span", {
        className: "flux-caption-params",
        textContent:
          ` · seed ${current.seed} · ${current.width}×${current.height} · ${current.steps} steps` +
          (current.guidance != null ? ` · guidance ${current.guidance}` : "") +
          (current.elapsed != null ? ` · ${Number(current.elapsed).toFixed(1)} s` : ""),
      }),
    );
    caption.title = current.prompt || "";
    download.href = imageUrl;
    download.download = `flux-${current.seed}.${EXTENSIONS[type] || "img"}`;
    result.hidden = false;
    for (const item of historyList.querySelectorAll("[data-index]")) {
      const shown = Number(item.dataset.index) === current.index;
      item.setAttribute("aria-current", String(shown));
      // Until the arrows choose another, the entry on show is the history's tab stop.
      if (rovingIndex == null && current.index != null) item.querySelector(".flux-history-button").tabIndex = shown ? 0 : -1;
    }
  });
  // Each history entry is a model of its own, sent once; `history` lists references to them
  // ("IPY_MODEL_…"). Resolved entries are kept by reference, so a new generation resolves one.
  // Plain objects (a notebook saved by an older version) are shown as they are.
  const entries = new Map();
  const fieldsOf = (entry) => {
    const read = typeof entry.get === "function" ? (name) => entry.get(name) : (name) => entry[name];
    return Object.fromEntries(ENTRY_FIELDS.map((name) => [name, read(name)]));
  };
  const resolveEntry = (ref) => {
    if (!entries.has(ref)) {
      const found =
        typeof ref === "string" && ref.startsWith(MODEL_REF)
          ? model.widget_manager.get_model(ref.slice(MODEL_REF.length))
          : Promise.resolve(ref);
      entries.set(ref, found.then(fieldsOf).catch(() => null));
    }
    return entries.get(ref);
  };
  let historyTicket = 0;
  watch(["history"], async () => {
    const ticket = ++historyTicket;
    const resolved = await Promise.all((model.get("history") || []).map(resolveEntry));
    if (ticket !== historyTicket || controller.signal.aborted) return; // a newer list, or the view is gone
    const current = model.get("current") || {};
    const valid = (index) => index != null && index >= 0 && index < resolved.length && resolved[index];
    const tabStop = valid(rovingIndex) ? rovingIndex : valid(current.index) ? current.index : resolved.length - 1;
    const items = resolved
      .map((entry, index) => {
        if (!entry) return null;
        const label = `${entry.prompt} (seed ${entry.seed}, ${entry.width}×${entry.height})`;
        const thumb = h("img", { className: "flux-thumb", src: entry.thumbnail || "", alt: entry.prompt });
        const button = h("button", { type: "button", className: "flux-history-button", title: label, "@aria-label": label }, [thumb]);
        button.tabIndex = index === tabStop ? 0 : -1;
        const remove = h("button", { type: "button", className: "flux-remove", textContent: "×", tabIndex: -1 });
        remove.setAttribute("aria-label", `Remove ${entry.prompt}`);
        const item = h("li", { className: "flux-history-item", "@role": "listitem" }, [button, remove]);
        item.dataset.index = String(index);
        item.setAttribute("aria-current", String(index === current.index));
        return item;
      })
      .filter(Boolean)
      .reverse();
    historyList.replaceChildren(...items);
    historyList.hidden = items.length === 0;
    if (pendingFocus != null) {
      historyList.querySelector(`[data-index="${pendingFocus}"] .flux-history-button`)?.focus();
      pendingFocus = null;
    }
  });

  return () => {
    controller.abort();
    for (const [event, handler] of modelHandlers) model.off(event, handler);
    clearTimeout(copiedTimer);
    clearTimeout(copiedImageTimer);
    clearTimeout(answerTimer);
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    el.replaceChildren();
  };
}

export default { render };
