/**
 * The embeddable widget, served at /widget.js. A site adds one tag for an identified customer:
 *
 *   <script src="https://cx.example.com/widget.js" data-workspace="default"
 *     data-customer="C-1042" data-signature="<hex HMAC-SHA256 of C-1042 under the widget secret>" async></script>
 *
 * On load it asks whether a page rule fires for this page; `Touchpoint.track("checkout")` asks for
 * an event. When the server answers with a survey (the workspace's fatigue rules allow it), the
 * survey page opens in a small dialog; the respondent can close it with the button or Escape.
 * Plain ES5 without dependencies, so it runs in any browser and stays small.
 */
export const WIDGET_SCRIPT = `(function () {
  var script = document.currentScript;
  if (!script || window.Touchpoint) return;
  var base = new URL(script.src, location.href).origin;
  var workspace = script.getAttribute('data-workspace') || 'default';
  var customer = script.getAttribute('data-customer');
  var signature = script.getAttribute('data-signature');
  var open = false;

  function show(url) {
    open = true;
    var box = document.createElement('div');
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', 'Survey');
    box.style.cssText = 'position:fixed;right:16px;bottom:16px;z-index:2147483647;width:380px;max-width:calc(100vw - 32px);' +
      'height:560px;max-height:calc(100vh - 32px);background:#fff;border:1px solid #595959;border-radius:8px;' +
      'box-shadow:0 4px 24px rgba(0,0,0,.3);overflow:hidden';
    var close = document.createElement('button');
    close.type = 'button';
    close.textContent = '\\u00d7';
    close.setAttribute('aria-label', 'Close the survey');
    close.style.cssText = 'position:absolute;top:4px;right:4px;width:44px;height:44px;font:24px/1 sans-serif;' +
      'background:#fff;color:#1a1a1a;border:0;border-radius:22px;cursor:pointer';
    var frame = document.createElement('iframe');
    frame.src = base + url;
    frame.title = 'Survey';
    frame.style.cssText = 'border:0;width:100%;height:100%';
    function dismiss() {
      if (box.parentNode) box.parentNode.removeChild(box);
      document.removeEventListener('keydown', onKey);
    }
    function onKey(event) {
      if (event.key === 'Escape') dismiss();
    }
    close.onclick = dismiss;
    document.addEventListener('keydown', onKey);
    box.appendChild(frame);
    box.appendChild(close);
    document.body.appendChild(box);
    close.focus();
  }

  function check(event) {
    if (open || !customer || !signature || !window.fetch) return;
    fetch(base + '/w/' + encodeURIComponent(workspace) + '/check', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId: customer, signature: signature, event: event || null, page: location.pathname })
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && answer.show && !open) show(answer.url);
    }).catch(function () {});
  }

  window.Touchpoint = {
    track: function (event) { check(String(event)); },
    identify: function (id, sig) { customer = id; signature = sig; check(null); }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { check(null); });
  else check(null);
})();
`;
