// The raising pages' pickers, as a progressive enhancement: without script the agency is a
// plain select and the practitioner a text box taking a name or a work email, which the
// server checks either way.
const autocomplete = window.accessibleAutocomplete;
// The library puts a suggestion in the page as HTML: every name is escaped first (a name is
// whatever a person, an import or a sign-in provider gave).
const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const form = document.querySelector("form[data-directory-url]");
// The library's own words (its hint and what it announces), in the page's language where
// the page gives them (``{% picker_texts %}``); its English otherwise.
const say = (text, values) => text.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));
const pickerTexts = (() => {
  let words = {};
  try {
    words = JSON.parse((form && form.dataset.pickerTexts) || "{}");
  } catch {
    return {};
  }
  if (!words.assistiveHint) return {};
  return {
    tNoResults: () => words.noResults,
    tStatusQueryTooShort: (n) => say(words.queryTooShort, { n }),
    tStatusNoResults: () => words.noSearchResults,
    tStatusSelectedOption: (option, n, index) => say(words.selectedOption, { option, n, index: index + 1 }),
    tStatusResults: (n, selected) => `${say(n === 1 ? words.resultOne : words.resultMany, { n })} ${selected}`,
    tAssistiveHint: () => words.assistiveHint,
  };
})();

if (autocomplete && form) {
  // The box the person sees carries the field's hint and error (read out with it) and the
  // error's red border; the hint box behind it is decoration.
  const carryOver = (box, describedBy, error) => {
    if (!box) return;
    if (describedBy) box.setAttribute("aria-describedby", describedBy);
    if (error) box.classList.add("accord-autocomplete--error");
  };
  // The library's greyed-out completion behind the box (shown while typing) is decoration:
  // hidden from assistive technology, which reads the box and its list.
  const hideHints = (root) => {
    for (const hint of root.querySelectorAll("input.autocomplete__hint:not([aria-hidden])")) {
      hint.setAttribute("aria-hidden", "true");
    }
  };
  new MutationObserver(() => hideHints(form)).observe(form, { childList: true, subtree: true });
  for (const select of form.querySelectorAll("select[data-autocomplete]")) {
    const describedBy = select.getAttribute("aria-describedby");
    const error = select.classList.contains("govuk-select--error");
    autocomplete.enhanceSelectElement({
      ...pickerTexts,
      selectElement: select,
      defaultValue: "",
      showAllValues: true,
      templates: {
        inputValue: (r) => (r ? String(r) : ""),
        suggestion: (r) => escape(r),
      },
    });
    carryOver(document.getElementById(select.id.replace(/-select$/, "")), describedBy, error);
  }

  const url = form.dataset.directoryUrl;
  for (const input of form.querySelectorAll("input[data-directory]")) {
    // The agency chosen in the same row (or the first agency), to search its people only.
    const row = input.closest(".moj-add-another__item") || form;
    const agencyOf = () => {
      const select = row.querySelector("select[data-autocomplete]");
      return select ? select.value : "";
    };
    let timer = null;
    const source = (query, populate) => {
      clearTimeout(timer);
      if (query.trim().length < 3 || query.includes("@")) {
        populate([]);
        return;
      }
      timer = setTimeout(async () => {
        const params = new URLSearchParams({ q: query, agency: agencyOf() });
        try {
          const response = await fetch(`${url}?${params}`, { headers: { Accept: "application/json" } });
          populate(response.ok ? (await response.json()).people : []);
        } catch {
          populate([]);
        }
      }, 250);
    };
    const holder = document.createElement("div");
    input.parentNode.insertBefore(holder, input);
    const { id, name, value } = input;
    const described = input.getAttribute("aria-describedby");
    const hadError = input.classList.contains("govuk-input--error");
    input.remove();
    autocomplete({
      ...pickerTexts,
      element: holder,
      id,
      name,
      defaultValue: value,
      source,
      minLength: 3,
      confirmOnBlur: false,
      showNoOptionsFound: false,
      templates: {
        // The box shows the name with the address the server reads ("Sam Okafor <sam@…>").
        inputValue: (r) => (r ? (typeof r === "string" ? r : `${r.name} <${r.value}>`) : ""),
        suggestion: (r) => escape(typeof r === "string" ? r : `${r.label} (${r.value})`),
      },
    });
    carryOver(holder.querySelector("input.autocomplete__input"), described, hadError);
  }
}

// "Add another": the next row (on the page already, hidden) is shown at once, without a
// round trip; without script, or once the spare rows are all shown, the button saves the
// page and shows one more. It goes only when the page holds as many rows as are taken.
for (const button of document.querySelectorAll("button.moj-add-another__add-button")) {
  button.addEventListener("click", (event) => {
    const list = button.closest(".moj-add-another");
    const next = list && list.querySelector(".moj-add-another__item[hidden]");
    if (!next) {
      // Saved with the page: it shows one more than the rows open now, filled or not.
      if (list) button.value = String(list.querySelectorAll(".moj-add-another__item:not([hidden])").length);
      return;
    }
    event.preventDefault();
    next.hidden = false;
    if (button.dataset.more) button.textContent = button.dataset.more;
    const rows = list.querySelectorAll(".moj-add-another__item").length;
    const most = Number(button.dataset.most || Infinity);
    if (!list.querySelector(".moj-add-another__item[hidden]") && rows >= most) {
      button.closest(".moj-button-action").hidden = true;
    }
    const first = next.querySelector("input, select");
    if (first) first.focus();
  });
}
