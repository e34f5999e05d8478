// Scroll the letter beside a commitment so that its marked sentence is in view.
(function () {
  var mark = document.getElementById("source");
  if (!mark) return;
  var box = mark.closest(".source-letter");
  if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - 80);
})();
