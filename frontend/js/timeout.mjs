// WCAG 2.2.1 (timing adjustable): before the idle limit signs someone out, say so and offer
// to keep them signed in. Progressive enhancement: without JavaScript the dialog is never
// shown (and the raising pages still keep what was typed across signing in again).
const dialog = document.getElementById("accord-timeout");

if (dialog && typeof dialog.showModal === "function") {
  const warnSeconds = Number(dialog.dataset.warnSeconds) || 120;
  const countdown = dialog.querySelector("[data-countdown]");
  const form = dialog.querySelector("form");
  const stay = form.querySelector("button[type=submit]");
  const signIn = dialog.querySelector(".accord-timeout__sign-in");
  const close = dialog.querySelector(".accord-timeout__close");
  let deadline = Date.now() + Number(dialog.dataset.secondsLeft) * 1000;
  let timers = [];

  const remaining = () => Math.max(0, Math.round((deadline - Date.now()) / 1000));

  function describe(seconds) {
    if (seconds > 90) return `${Math.ceil(seconds / 60)} minutes`;
    if (seconds > 59) return "1 minute";
    return seconds === 1 ? "1 second" : `${seconds} seconds`;
  }

  function schedule() {
    timers.forEach(clearTimeout);
    timers = [
      setTimeout(warn, Math.max(0, deadline - Date.now() - warnSeconds * 1000)),
      setTimeout(signedOut, Math.max(0, deadline - Date.now())),
    ];
  }

  let ticking = null;
  function warn() {
    if (countdown) countdown.textContent = describe(remaining());
    if (!dialog.open) dialog.showModal();
    stay.focus();
    clearInterval(ticking);
    ticking = setInterval(() => {
      if (countdown) countdown.textContent = describe(remaining());
    }, 1000);
  }

  function signedOut() {
    clearInterval(ticking);
    for (const id of ["accord-timeout-title", "accord-timeout-text"]) {
      const element = document.getElementById(id);
      element.textContent = element.dataset.signedOutText;
    }
    stay.hidden = true;
    signIn.hidden = false;
    close.hidden = false;
    if (!dialog.open) dialog.showModal();
    signIn.focus();
  }

  close.addEventListener("click", () => dialog.close());

  // Signing in again from a page being typed on sends what was typed with it: the server
  // keeps it (for this person alone) and shows it back once they have signed in.
  signIn.addEventListener("click", (event) => {
    // (The pages where the server keeps it: raising, and an escalation's action pages.)
    const keeps = /^\/escalations\/(raise\/\d+\/[a-z-]+|\d+\/[a-z-]+(\/\d+\/[a-z-]+)?)\/$/;
    const typed = [...document.querySelectorAll("main form[method=post]")].find(
      (f) =>
        keeps.test(new URL(f.action || window.location.href, window.location.href).pathname) &&
        [...f.querySelectorAll("textarea, input[type=text], input:not([type])")].some((e) => e.value.trim()),
    );
    if (!typed) return;
    event.preventDefault();
    typed.submit();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-Requested-With": "fetch" },
        credentials: "same-origin",
        redirect: "manual",
      });
      if (!response.ok) throw new Error(String(response.status));
      const { seconds_left: secondsLeft } = await response.json();
      deadline = Date.now() + secondsLeft * 1000;
      clearInterval(ticking);
      dialog.close();
      schedule();
    } catch {
      form.submit(); // let the server answer as it would without JavaScript
    }
  });

  schedule();
}
