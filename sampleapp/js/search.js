// The home page's search box: asks /search.lasp (JSON) as you type and
// lists what it answers. Text goes in with textContent, never innerHTML.
(function () {
  const input = document.getElementById("q");
  const list = document.getElementById("results");
  let timer = 0;
  let asked = "";

  async function search(q) {
    asked = q;
    const res = await fetch("/search.lasp?q=" + encodeURIComponent(q));
    const data = await res.json();
    if (data.query !== asked) return; // an answer to an older question
    list.replaceChildren();
    if (data.results.length === 0) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No tea matches “" + data.query + "”.";
      list.append(li);
    }
    for (const p of data.results) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = p.url;
      a.textContent = p.name;
      const price = document.createElement("span");
      price.className = "price";
      price.textContent = p.price;
      li.append(a, price);
      list.append(li);
    }
    list.hidden = false;
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q === "") {
      asked = "";
      list.hidden = true;
      return;
    }
    timer = setTimeout(function () { search(q).catch(function () { list.hidden = true; }); }, 150);
  });
})();
