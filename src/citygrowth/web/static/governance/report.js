// Resident form: a key per form load (a double submit or a retry makes no second case),
// position and the duplicate suggestion before sending.
(function () {
  document.getElementById("idem").value = window.cgIntake.newKey();
  document.getElementById("category").addEventListener("change", window.cgIntake.dupes);
  window.cgIntake.locate(window.cgIntake.dupes);
})();
