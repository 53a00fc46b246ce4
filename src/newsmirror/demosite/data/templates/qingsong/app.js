document.getElementById('app').textContent = '';
fetch('/qingsong/api' + location.pathname).then(function (r) { return r.json(); });
