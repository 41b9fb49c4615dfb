/* The posting form, improved when JavaScript runs (everything works without it): the error summary takes
   the focus and its links focus their field; only the selected kind of offer's section shows; long texts
   count their characters; the country list can be searched; folded lists say how many boxes are ticked. */
(function () {
  "use strict";
  var form = document.querySelector("form.posting-form");
  if (!form) return;

  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    summary.addEventListener("click", function (event) {
      var link = event.target.closest("a[href^='#']");
      if (!link) return;
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      var fold = target.closest("details");
      if (fold && target.tagName !== "SUMMARY") fold.open = true;
      var field = target.closest(".field") || target;
      field.scrollIntoView();
      target.focus();
    });
  }

  var kind = form.querySelector("#id_kind");
  function showKindSections() {
    form.querySelectorAll("[data-offer-kind]").forEach(function (section) {
      section.hidden = section.getAttribute("data-offer-kind") !== kind.value;
    });
  }
  if (kind) {
    kind.addEventListener("change", showKindSections);
    showKindSections();
  }

  var counterText = form.getAttribute("data-counter-text");
  form.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var counter = document.createElement("p");
    counter.className = "help counter";
    counter.id = area.id + "_counter";
    area.after(counter);
    area.setAttribute("aria-describedby", ((area.getAttribute("aria-describedby") || "") + " " + counter.id).trim());
    function update() {
      var left = Number(area.getAttribute("maxlength")) - area.value.length;
      counter.textContent = counterText.replace("{n}", left.toLocaleString(document.documentElement.lang));
    }
    area.addEventListener("input", update);
    update();
  });

  form.querySelectorAll("details.fold").forEach(function (fold) {
    var label = fold.querySelector(".chosen");
    fold.addEventListener("change", function () {
      var ticked = fold.querySelectorAll("input:checked").length;
      var text = ticked === 1 ? label.getAttribute("data-one") : label.getAttribute("data-many");
      label.textContent = ticked ? " · " + text.replace("{n}", ticked) : "";
    });
  });

  var filter = form.querySelector(".picker-filter");
  if (filter) {
    filter.hidden = false;
    var input = filter.querySelector("input");
    var count = filter.querySelector("#country-filter-count");
    var picker = filter.closest(".picker");
    var fold = function (text) {
      return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
    };
    input.addEventListener("input", function () {
      var query = fold(input.value.trim());
      var found = 0;
      picker.querySelectorAll("details.fold").forEach(function (region) {
        var shown = 0;
        region.querySelectorAll("li").forEach(function (item) {
          var match = !query || fold(item.textContent).indexOf(query) !== -1;
          item.hidden = !match;
          if (match) shown += 1;
        });
        region.hidden = query !== "" && shown === 0;
        if (query) region.open = shown > 0;
        found += shown;
      });
      count.textContent = query ? filter.getAttribute("data-found-text").replace("{n}", found) : "";
    });
    /* Enter in the search box must not submit the form. */
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") event.preventDefault();
    });
  }
})();
