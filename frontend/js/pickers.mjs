// The raising pages' pickers, as a progressive enhancement: without script the agency is a
// plain select and the practitioner a text box taking a name or a work email, which the
// server checks either way.
const autocomplete = window.accessibleAutocomplete;
const form = document.querySelector("form[data-directory-url]");

if (autocomplete && form) {
  for (const select of form.querySelectorAll("select[data-autocomplete]")) {
    autocomplete.enhanceSelectElement({
      selectElement: select,
      defaultValue: "",
      showAllValues: true,
      dropdownArrow: () => "",
    });
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
    input.remove();
    autocomplete({
      element: holder,
      id,
      name,
      defaultValue: value,
      source,
      minLength: 3,
      confirmOnBlur: false,
      showNoOptionsFound: false,
      templates: {
        inputValue: (r) => (r ? (typeof r === "string" ? r : r.value) : ""),
        suggestion: (r) => (typeof r === "string" ? r : `${r.label} (${r.value})`),
      },
    });
    const created = holder.querySelector("input");
    if (created && described) created.setAttribute("aria-describedby", described);
  }
}

// "Add another": the next row (on the page already, hidden) is shown at once, without a
// round trip; without script the button saves the page and shows one more.
for (const button of document.querySelectorAll("button.moj-add-another__add-button")) {
  button.addEventListener("click", (event) => {
    const list = button.closest(".moj-add-another");
    const next = list && list.querySelector(".moj-add-another__item[hidden]");
    if (!next) return;
    event.preventDefault();
    next.hidden = false;
    if (button.dataset.more) button.textContent = button.dataset.more;
    if (!list.querySelector(".moj-add-another__item[hidden]")) button.closest(".moj-button-action").hidden = true;
    const first = next.querySelector("input, select");
    if (first) first.focus();
  });
}
