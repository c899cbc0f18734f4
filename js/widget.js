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
const MAX_COUNT = 8;
const CONTROLS = ["prompt", "width", "height", "steps", "seed", "randomize_seed", "guidance", "count"];
const ENTRY_FIELDS = ["prompt", "seed", "width", "height", "steps", "guidance", "elapsed", "thumbnail"];
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

/** "12:31" (or "1:02:03"): a wait in whole seconds, as the Space writes it. */
function clock(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  const mm = String(Math.floor((s % 3600) / 60)).padStart(s >= 3600 ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The caption's parameters: "2/4 · seed 1 · 1024×1024 · 4 steps · 2.1 s". */
function describeParams(current) {
  return (
    ` · seed ${current.seed} · ${current.width}×${current.height} · ${current.steps} step${current.steps === 1 ? "" : "s"}` +
    (current.guidance != null ? ` · guidance ${current.guidance}` : "") +
    (current.elapsed != null ? ` · ${Number(current.elapsed).toFixed(1)} s` : "")
  );
}

function describeStatus(model) {
  const size = model.get("batch_size");
  const running = describeJob(model);
  if (size > 1 && (model.get("status") === "queued" || model.get("status") === "running")) {
    return `${model.get("batch_done")} of ${size} done${running ? ` · ${running}` : ""}`;
  }
  return running;
}

function describeJob(model) {
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
  let retryTimer = null;
  let resolvedEntries = []; // the history's entries, resolved, by index
  let viewerIndex = null; // the history entry the full-size view shows
  let viewerOpener = null; // what had focus when the view opened
  let viewerRequest = null; // the entry last asked of the kernel
  let viewerShown = null; // the entry whose full image the view holds: { index, url, current }
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
  const count = numberField("Images", "count", 1, MAX_COUNT, 1);
  count.field.classList.add("flux-count-field");
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
    h("div", { className: "flux-row" }, [steps.field, guidance.field, count.field, seed.field, randomizeField]),
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
  // After a quota error: a countdown from the Space's "try again in", then Retry.
  const retryText = h("span", { className: "flux-retry-text" });
  const retryButton = h("button", { type: "button", className: "flux-link flux-retry", textContent: "Retry" });
  const retryRow = h("span", { className: "flux-retry" }, [retryText, retryButton]);
  const errorBox = h("div", { className: "flux-error", "@role": "alert" }, [
    h("span", { className: "flux-error-body" }, [errorText, retryRow]),
    dismissError,
  ]);

  const image = h("img", { className: "flux-image", alt: "" });
  // The image is a button: a click, Enter or Space opens the full-size view.
  const imageButton = h("button", { type: "button", className: "flux-image-button" }, [image]);
  const caption = h("span", { className: "flux-caption" });
  const download = h("a", { className: "flux-link flux-download", textContent: "Download" });
  const copySeed = h("button", { type: "button", className: "flux-link flux-copy-seed", textContent: "Copy seed" });
  const reuseSeed = h("button", { type: "button", className: "flux-link flux-reuse-seed", textContent: "Reuse seed" });
  const copyImage = h("button", { type: "button", className: "flux-link flux-copy-image", textContent: "Copy image" });
  const result = h("figure", { className: "flux-result" }, [
    imageButton,
    h("figcaption", { className: "flux-figcaption" }, [caption, h("span", { className: "flux-result-actions" }, [download, copyImage, copySeed, reuseSeed])]),
  ]);
  const batchGrid = h("ul", { className: "flux-batch", "@role": "list", "@aria-label": "Batch" });
  const historyList = h("ul", { className: "flux-history", "@role": "list", "@aria-label": "History" });
  // Shading at either end says there is more to scroll.
  const historyStrip = h("div", { className: "flux-history-strip" }, [historyList]);

  // The full-size view: a modal dialog, named by the prompt, in the page's top layer (so no
  // output area clips it and the notebook does not scroll).
  const viewerTitleId = `flux-viewer-title-${Math.random().toString(36).slice(2)}`;
  const viewerTitle = h("h2", { className: "flux-viewer-title", id: viewerTitleId, dir: "auto" });
  const viewerImage = h("img", { className: "flux-viewer-image", alt: "" });
  const viewerCaption = h("p", { className: "flux-viewer-caption" });
  const viewerCounter = h("span", { className: "flux-viewer-counter" });
  const viewerPrevious = h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "‹ Previous" });
  const viewerNext = h("button", { type: "button", className: "flux-button flux-viewer-nav", textContent: "Next ›" });
  viewerPrevious.setAttribute("aria-label", "Previous image");
  viewerNext.setAttribute("aria-label", "Next image");
  const viewerClose = h("button", { type: "button", className: "flux-button flux-viewer-close", textContent: "Close" });
  const viewerDownload = h("a", { className: "flux-link", textContent: "Download" });
  const viewerCopy = h("button", { type: "button", className: "flux-link", textContent: "Copy image" });
  const viewerReuse = h("button", { type: "button", className: "flux-link", textContent: "Reuse seed" });
  const viewer = h("dialog", { className: "flux-viewer", "@aria-labelledby": viewerTitleId }, [
    h("div", { className: "flux-viewer-panel" }, [
      h("div", { className: "flux-viewer-top" }, [viewerTitle, viewerClose]),
      viewerImage,
      viewerCaption,
      h("div", { className: "flux-viewer-bottom" }, [
        viewerPrevious,
        h("span", { className: "flux-viewer-middle" }, [
          viewerCounter,
          h("span", { className: "flux-result-actions" }, [viewerDownload, viewerCopy, viewerReuse]),
        ]),
        viewerNext,
      ]),
    ]),
  ]);

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
    batchGrid,
    historyStrip,
    source,
    announcer,
    viewer,
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
    [count.input, "count"],
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
    if (event.key === "Escape" && !viewer.open && (status === "queued" || status === "running")) {
      event.preventDefault();
      model.send({ type: "cancel" });
    }
  });
  for (const [button, picture] of [
    [copyImage, image],
    [viewerCopy, viewerImage],
  ]) {
    listen(button, "click", async () => {
      button.textContent = await copyPicture(picture);
      clearTimeout(copiedImageTimer);
      copiedImageTimer = setTimeout(() => {
        copyImage.textContent = "Copy image";
        viewerCopy.textContent = "Copy image";
      }, 1500);
    });
  }
  for (const button of [reuseSeed, viewerReuse]) {
    listen(button, "click", () => {
      const current = button === viewerReuse ? viewerShown?.current || {} : model.get("current") || {};
      if (current.seed != null) setTraits({ seed: current.seed, randomize_seed: false });
    });
  }
  listen(retryButton, "click", generate);

  // ---------------------------------------------------------------- the full-size view
  const openViewer = (index) => {
    if (index == null) return;
    viewerIndex = index;
    if (!viewer.open) viewerRequest = (model.get("current") || {}).index;
    if (viewerRequest !== index) {
      model.send({ type: "show", index });
      viewerRequest = index;
    }
    drawViewer();
    if (!viewer.open) {
      viewerOpener = document.activeElement;
      viewer.showModal();
      viewerClose.focus({ preventScroll: true });
    }
  };
  const stepViewer = (by) => {
    const next = viewerIndex + by;
    if (viewerIndex != null && next >= 0 && next < (model.get("history") || []).length) openViewer(next);
  };
  listen(imageButton, "click", () => openViewer((model.get("current") || {}).index));
  listen(viewerPrevious, "click", () => stepViewer(-1));
  listen(viewerNext, "click", () => stepViewer(1));
  listen(viewerClose, "click", () => viewer.close());
  listen(viewer, "keydown", (event) => {
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      stepViewer(event.key === "ArrowLeft" ? -1 : 1);
    }
  });
  // A click on the shade around the panel closes the view, as Esc does.
  listen(viewer, "click", (event) => {
    if (event.target === viewer) viewer.close();
  });
  listen(viewer, "close", () => {
    viewerIndex = null;
    forgetViewerImage();
    const back = viewerOpener && viewerOpener.isConnected ? viewerOpener : imageButton;
    viewerOpener = null;
    back.focus({ preventScroll: true });
  });
  listen(batchGrid, "click", (event) => {
    const tile = event.target.closest("[data-index]");
    if (tile) openViewer(Number(tile.dataset.index));
  });

  // ---------------------------------------------------------------- more to scroll
  const markScroll = () => {
    const { scrollLeft, scrollWidth, clientWidth } = historyList;
    historyStrip.classList.toggle("flux-more-before", scrollLeft > 1);
    historyStrip.classList.toggle("flux-more-after", scrollLeft + clientWidth < scrollWidth - 1);
  };
  listen(historyList, "scroll", markScroll);
  const resizes = typeof ResizeObserver === "undefined" ? null : new ResizeObserver(markScroll);
  resizes?.observe(historyList);
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
  watch(["width", "height", "steps", "seed", "count"], () => {
    count.input.value = String(model.get("count"));
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
  // The quota countdown: "Try again in 12:31", then Retry is enabled.
  const tickRetry = () => {
    const at = model.get("retry_at");
    const left = at == null ? 0 : at - Date.now() / 1000;
    retryRow.hidden = at == null || !model.get("error");
    retryText.textContent = left > 0 ? `Try again in ${clock(left)}` : "You can try again now.";
    retryButton.disabled = left > 0;
    if (left <= 0 || retryRow.hidden) {
      clearInterval(retryTimer);
      retryTimer = null;
    }
  };
  watch(["retry_at", "error"], () => {
    clearInterval(retryTimer);
    retryTimer = setInterval(tickRetry, 1000);
    tickRetry();
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
    const place = current.slot != null ? `${current.slot}/${current.of} · ` : "";
    caption.replaceChildren(
      ...(place ? [h("span", { className: "flux-caption-slot", textContent: place })] : []),
      h("bdi", { className: "flux-caption-prompt", textContent: current.prompt || "", dir: "auto" }),
      h("span", { className: "flux-caption-params", textContent: describeParams(current) }),
    );
    caption.title = current.prompt || "";
    imageButton.setAttribute("aria-label", `View full size: ${current.prompt || "image"}`);
    download.href = imageUrl;
    download.download = `flux-${current.seed}.${EXTENSIONS[type] || "img"}`;
    drawBatch();
    drawViewer();
    for (const item of historyList.querySelectorAll("[data-index]")) {
      const shown = Number(item.dataset.index) === current.index;
      item.setAttribute("aria-current", String(shown));
      // Until the arrows choose another, the entry on show is the history's tab stop.
      if (rovingIndex == null && current.index != null) item.querySelector(".flux-history-button").tabIndex = shown ? 0 : -1;
    }
  });
  // The batch: one tile per image asked for, filled as each arrives; a tile opens the full-size view.
  function drawBatch() {
    const size = model.get("batch_size");
    const hasImage = (model.get("image")?.byteLength || 0) > 0;
    result.hidden = !hasImage || size > 1;
    batchGrid.hidden = size <= 1;
    if (size <= 1) {
      batchGrid.replaceChildren();
      return;
    }
    // Balanced rows: 2 → 2, 3 → 3, 4 → 2×2, 6 → 3×2, 8 → 4×2.
    batchGrid.style.setProperty("--flux-columns", String(size <= 3 ? size : Math.min(4, Math.ceil(size / 2))));
    const status = model.get("status");
    const busy = status === "queued" || status === "running";
    const bySlot = new Map((model.get("batch") || []).map((tile) => [tile.slot, tile.index]));
    const tiles = [];
    for (let slot = 1; slot <= size; slot++) {
      const index = bySlot.get(slot);
      const entry = index == null ? null : resolvedEntries[index];
      const place = `${slot}/${size}`;
      if (!entry) {
        const state = index != null ? "arriving…" : busy ? "waiting…" : "not made";
        tiles.push(
          h("li", { className: "flux-batch-item flux-batch-pending" }, [
            h("div", { className: "flux-batch-placeholder", style: `aspect-ratio: ${model.get("width")} / ${model.get("height")}` }),
            h("span", { className: "flux-batch-caption", textContent: `${place} · ${state}` }),
          ]),
        );
        continue;
      }
      const label = `Open ${place} full size: ${entry.prompt} (seed ${entry.seed})`;
      const button = h("button", { type: "button", className: "flux-batch-button", "@aria-label": label }, [
        h("img", { className: "flux-batch-thumb", src: entry.thumbnail || "", alt: "", width: entry.width, height: entry.height }),
      ]);
      const item = h("li", { className: "flux-batch-item" }, [
        button,
        h("span", { className: "flux-batch-caption", textContent: `${place} · seed ${entry.seed}` }),
      ]);
      item.dataset.index = String(index);
      tiles.push(item);
    }
    const focusedSlot = batchGrid.contains(document.activeElement)
      ? [...batchGrid.children].indexOf(document.activeElement.closest("li"))
      : -1;
    batchGrid.replaceChildren(...tiles);
    if (focusedSlot >= 0) batchGrid.children[focusedSlot]?.querySelector("button")?.focus({ preventScroll: true });
  }
  watch(["batch", "batch_size", "batch_done", "status"], drawBatch); // and with each image, from its watcher

  // The view keeps its own copy of the image it shows: the one on show in the widget may change
  // meanwhile (a batch arriving, an answer to an earlier arrow press).
  function forgetViewerImage() {
    if (viewerShown) URL.revokeObjectURL(viewerShown.url);
    viewerShown = null;
  }
  function drawViewer() {
    if (viewerIndex == null) return;
    const current = model.get("current") || {};
    const bytes = model.get("image");
    if (current.index === viewerIndex && bytes?.byteLength && viewerShown?.index !== viewerIndex) {
      forgetViewerImage();
      const url = URL.createObjectURL(new Blob([bytes], { type: model.get("image_type") || "image/webp" }));
      viewerShown = { index: viewerIndex, url, current: { ...current } };
    }
    const ready = viewerShown?.index === viewerIndex;
    const entry = resolvedEntries[viewerIndex] || {};
    const shown = ready ? viewerShown.current : entry;
    viewerTitle.textContent = shown.prompt || "";
    // Until the full image arrives from the kernel, its thumbnail stands in.
    const src = ready ? viewerShown.url : entry.thumbnail || "";
    if (viewerImage.getAttribute("src") !== src) viewerImage.src = src;
    viewerImage.alt = shown.prompt || "";
    viewerImage.width = shown.width || 0;
    viewerImage.height = shown.height || 0;
    if (shown.width && shown.height) viewerImage.style.setProperty("--flux-aspect", String(shown.width / shown.height));
    const total = (model.get("history") || []).length;
    const place = ready && shown.slot != null ? `${shown.slot}/${shown.of} · ` : "";
    viewerCaption.replaceChildren(
      place,
      h("bdi", { textContent: shown.prompt || "", dir: "auto" }),
      describeParams(shown),
    );
    viewerCounter.textContent = `${viewerIndex + 1} of ${total} in history`;
    viewerPrevious.disabled = viewerIndex <= 0;
    viewerNext.disabled = viewerIndex >= total - 1;
    if (ready) {
      viewerDownload.href = viewerShown.url;
      viewerDownload.download = `flux-${shown.seed}.${EXTENSIONS[model.get("image_type")] || "img"}`;
    }
    for (const action of [viewerDownload, viewerCopy, viewerReuse]) action.hidden = !ready;
    viewer.setAttribute("aria-busy", String(!ready));
    // A button that disables itself would drop focus out of the dialog.
    if (document.activeElement?.disabled) viewerClose.focus({ preventScroll: true });
  }

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
    resolvedEntries = resolved;
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
    markScroll();
    drawBatch();
    drawViewer();
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
    clearInterval(retryTimer);
    resizes?.disconnect();
    if (viewer.open) viewer.close();
    forgetViewerImage();
    if (imageUrl) URL.revokeObjectURL(imageUrl);
    el.replaceChildren();
  };
}

export default { render };
