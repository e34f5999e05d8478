// A "select all" box for tables of checkboxes; without JavaScript it stays hidden.
(function () {
  document.querySelectorAll("input[data-select-all]").forEach(function (box) {
    var name = box.getAttribute("data-select-all");
    var boxes = document.querySelectorAll('input[type=checkbox][name="' + name + '"]');
    box.hidden = false;
    box.addEventListener("change", function () {
      boxes.forEach(function (b) { b.checked = box.checked; });
    });
  });
})();
