// Progressive enhancement only: every page works without JavaScript.
import { initAll } from "/static/govuk/govuk-frontend.min.js";
initAll();

// A practitioner list that follows the agency chosen beside it: only that agency's
// practitioners are offered (the server checks the answer on the same page either way).
for (const people of document.querySelectorAll("select[data-agency-from]")) {
  const agency = document.getElementById(people.dataset.agencyFrom);
  if (!agency) continue;
  const follow = () => {
    for (const option of people.options) {
      if (!option.dataset.agency) continue; // "nobody named" stays
      const offered = agency.value !== "" && option.dataset.agency === agency.value;
      option.hidden = !offered;
      option.disabled = !offered;
      if (!offered && option.selected) people.value = "";
    }
  };
  agency.addEventListener("change", follow);
  follow();
}
