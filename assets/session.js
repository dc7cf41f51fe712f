/* Sign-in that ends while the page is open (serving/auth.py): every request of Dash's
   renderer is then refused (401: signed out or the session expired; 403: signed in,
   but not in a group allowed to use the dashboard) and the page silently stops
   updating. The renderer sends its callbacks, layout and dependencies with
   window.fetch, so watch the answers to those requests and, on the first refusal,
   dim the page and show a banner saying why, with a link that signs in again and
   comes back to this address (which holds every filter). No inline script, handler
   or eval: it runs under the content security policy. */
(function () {
  var MESSAGES = {
    401: "Your sign-in has expired, so this page has stopped updating. " +
         "Sign in again to carry on: you will come back to this view.",
    403: "You are signed in, but not as a member of a group allowed to use this " +
         "dashboard, so this page has stopped updating. Ask for access, then sign in again."
  };
  var originalFetch = window.fetch;
  var banner = null;

  if (typeof originalFetch !== "function") { return; }

  function isDashRequest(input) {
    var url = String((input && input.url) || input);
    return url.indexOf("/_dash-") !== -1;
  }

  function signInAgainHref() {
    return "/login?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  }

  function showBanner(status) {
    if (banner) { return; }
    banner = document.createElement("div");
    banner.id = "session-banner";
    banner.className = "session-banner no-print";
    banner.setAttribute("role", "alert");
    banner.setAttribute("data-status", String(status));

    var text = document.createElement("p");
    text.className = "session-banner-text";
    text.textContent = MESSAGES[status];

    var link = document.createElement("a");
    link.className = "btn btn-primary session-banner-action";
    link.textContent = "Sign in again";
    link.href = signInAgainHref();
    // The address may have changed since (back, forward, a tab link): take it as it is now.
    link.addEventListener("click", function () { link.href = signInAgainHref(); });

    banner.appendChild(text);
    banner.appendChild(link);
    document.body.appendChild(banner);
    document.body.classList.add("session-ended");
    link.focus({ preventScroll: true });
  }

  window.fetch = function (input) {
    var answer = originalFetch.apply(window, arguments);
    if (!isDashRequest(input)) { return answer; }
    return answer.then(function (response) {
      if (response.status === 401 || response.status === 403) { showBanner(response.status); }
      return response;
    });
  };
})();
