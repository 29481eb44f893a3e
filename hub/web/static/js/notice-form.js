// The notice form: a field the notice's kind does not take (the facts' only_when, given by the
// hub as data-kinds) is hidden and disabled, so it is neither shown nor posted; picking another
// kind shows its fields again, with what was typed in them. Without this script every field
// is shown, and the hub names any that the kind does not take.
(function () {
  "use strict";
  const form = document.getElementById("facts-form");
  const kind = document.getElementById("f-notice_kind");
  if (!form || !kind) return;
  function apply() {
    for (const el of form.querySelectorAll("[data-kinds]")) {
      const shown = el.dataset.kinds.split(" ").includes(kind.value);
      el.hidden = !shown;
      for (const input of el.querySelectorAll("input, select, textarea")) input.disabled = !shown;
    }
  }
  kind.addEventListener("change", apply);
  apply();
})();
