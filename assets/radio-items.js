/* Radio items (dcc.RadioItems) as a plain radio group. Dash 4 marks its radio list up as
   a listbox whose options are <label role="option" aria-selected> wrapping a real
   <input type="radio">: a screen reader then hears a list box of options instead of
   radio buttons, the radios sit inside another interactive role (axe: nested-interactive)
   and the list box has no name. The radios and their labels carry everything already
   (name, checked state, one group per list through the shared `name`; the surrounding
   role="group" of components/common.py:control names the group), so the list's roles
   are taken off whenever Dash draws or redraws one. */
(function () {
  var LIST = ".dash-radioitems";

  function plain(root) {
    var lists = root.matches && root.matches(LIST) ? [root] : [];
    if (root.querySelectorAll) {
      lists = lists.concat(Array.prototype.slice.call(root.querySelectorAll(LIST)));
    }
    lists.forEach(function (list) {
      list.removeAttribute("role");
      Array.prototype.forEach.call(list.querySelectorAll(".dash-options-list-option"), function (option) {
        option.removeAttribute("role");
        option.removeAttribute("aria-selected");
      });
    });
  }

  function start() {
    plain(document.body);
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        if (change.type === "attributes") {
          var list = change.target.closest && change.target.closest(LIST);
          if (list) { plain(list); }
        } else {
          Array.prototype.forEach.call(change.addedNodes, function (node) {
            if (node.nodeType === 1) { plain(node.closest(LIST) || node); }
          });
        }
      });
    }).observe(document.body, { childList: true, subtree: true, attributes: true,
                                attributeFilter: ["role", "aria-selected"] });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
