// roomgate's only script. It reads the embed options from the JSON data block that the
// server put in the page, and loads the vendor's embed with each option percent-encoded
// on its own. It never builds HTML or evaluates text, and it reads fixed option names
// only, so nothing from the data block can add options or touch Object.prototype.
(function () {
  'use strict';

  // Options in the order the loader URL lists them.
  var OPTION_NAMES = [
    '_license_key', '_role_token', '_personal_token', '_nickname', '_email',
    '_avatar_url', '_password_token', '_registrant_token', '_widget_containerID',
    '_widget_width', '_widget_height', '_disable_target_top'
  ];

  function readBlock() {
    var el = document.getElementById('roomgate-embed');
    if (!el) { return null; }
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function own(obj, key) {
    return obj !== null && typeof obj === 'object' &&
      Object.prototype.hasOwnProperty.call(obj, key);
  }

  // {loader}?t={license}&{name}={value}&… with every value encoded separately.
  function loaderUrl(block) {
    var options = block.options;
    var parts = ['t=' + encodeURIComponent(String(options._license_key))];
    for (var i = 0; i < OPTION_NAMES.length; i++) {
      var name = OPTION_NAMES[i];
      if (own(options, name) && options[name] !== null && options[name] !== undefined) {
        parts.push(name + '=' + encodeURIComponent(String(options[name])));
      }
    }
    return String(block.loader) + '?' + parts.join('&');
  }

  // The vendor's callback queue: Widget(fn) queues fn until the embed is initialised.
  function installWidgetQueue() {
    if (typeof window.Widget === 'function') { return; }
    var queue = function (cb) {
      queue.__cbs.push(cb);
      if (queue.initialized) {
        var cbs = queue.__cbs;
        queue.__cbs = [];
        for (var i = 0; i < cbs.length; i++) { cbs[i](); }
      }
    };
    queue.__cbs = [];
    queue.initialized = false;
    window.Widget = queue;
  }

  function loadEmbed() {
    var block = readBlock();
    if (!block || !own(block, 'options') || !own(block.options, '_license_key') ||
        typeof block.loader !== 'string') {
      return;
    }
    installWidgetQueue();
    var script = document.createElement('script');
    script.async = true;
    script.src = loaderUrl(block);
    document.head.appendChild(script);
  }

  // Scheduled rooms: show the start in the visitor's own time as well, in the page's language.
  function showLocalTimes() {
    var lang = document.documentElement.lang || undefined;
    var els = document.querySelectorAll('time[data-local-time]');
    for (var i = 0; i < els.length; i++) {
      var when = new Date(els[i].getAttribute('datetime'));
      if (isNaN(when.getTime())) { continue; }
      try {
        els[i].textContent = when.toLocaleString(lang, {
          weekday: 'long', day: 'numeric', month: 'long', year: 'numeric',
          hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
        });
      } catch (e) {
        els[i].textContent = when.toString();
      }
    }
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  // "2 d 03:04:05" or "03:04:05".
  function formatLeft(seconds, daysLabel) {
    var d = Math.floor(seconds / 86400);
    var h = Math.floor((seconds % 86400) / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var clock = pad(h) + ':' + pad(m) + ':' + pad(s);
    return d > 0 ? d + ' ' + daysLabel + ' ' + clock : clock;
  }

  // Counts down from the seconds the server gave (the visitor's clock may be wrong).
  // A waiting room reloads itself when it opens, after a short random pause so that a
  // crowd does not arrive in the same second; the server decides what the page shows.
  function startCountdowns() {
    var els = document.querySelectorAll('[data-seconds-left]');
    if (els.length === 0) { return; }
    var loadedAt = Date.now();
    var status = document.getElementById('room-status');
    var reloading = false;
    function tick() {
      var elapsed = Math.floor((Date.now() - loadedAt) / 1000);
      for (var i = 0; i < els.length; i++) {
        var el = els[i];
        var left = Math.max(0, parseInt(el.getAttribute('data-seconds-left'), 10) - elapsed);
        if (isNaN(left)) { continue; }
        if (left > 0) {
          el.textContent = formatLeft(left, el.getAttribute('data-days-label') || 'd');
        } else {
          el.textContent = el.getAttribute('data-done-text') || '';
          if (status && status.textContent !== el.textContent) {
            status.textContent = el.textContent;
          }
          if (el.getAttribute('data-reload') === '1' && !reloading) {
            reloading = true;
            setTimeout(function () { window.location.reload(); }, 1000 + Math.floor(Math.random() * 4000));
          }
        }
      }
    }
    tick();
    setInterval(tick, 1000);
  }

  function start() {
    showLocalTimes();
    startCountdowns();
    loadEmbed();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
