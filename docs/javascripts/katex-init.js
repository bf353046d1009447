// Typesets the formulas of each page with the local copy of KaTeX (javascripts/katex/).
// pymdownx.arithmatex (generic mode) turns $...$ into <span class="arithmatex">\(...\)</span>
// and $$...$$ into <div class="arithmatex">\[...\]</div>; only those elements are rendered,
// so a dollar sign anywhere else in the text stays a dollar sign. Material's document$
// fires on the first load and after each page change of its instant navigation.
document$.subscribe(({ body }) => {
  for (const element of body.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,   // a typo shows the formula in red instead of hiding it
    });
  }
});
