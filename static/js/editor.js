// The reply editor works without JavaScript (the 预览 button re-renders the page);
// this script adds a live preview and shows the chosen grade's definition.
(function () {
  "use strict";
  var input = document.getElementById("body-input");
  var preview = document.getElementById("body-preview");
  var form = document.getElementById("draft-form");
  if (input && preview && form) {
    var token = form.querySelector('input[name="csrf_token"]');
    var timer = null;
    var refresh = function () {
      var data = new FormData();
      data.append("body", input.value);
      if (token) data.append("csrf_token", token.value);
      fetch(preview.dataset.url, { method: "POST", body: data, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) { if (html !== null) preview.innerHTML = html; })
        .catch(function () {});
    };
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }
  var grade = document.getElementById("classification");
  var notes = document.querySelectorAll("#grade-definition [data-grade]");
  if (grade && notes.length) {
    grade.addEventListener("change", function () {
      notes.forEach(function (n) { n.hidden = n.dataset.grade !== grade.value; });
    });
  }
})();
