// Facts the server renders into the page as JSON (voice/page/views.py): the voices a direct
// call may ask for, the site tools' specs, the limits the page keeps to, and the site's pages.
// The page keeps no copies of them.

function embedded(id) {
  return JSON.parse(document.getElementById(id).textContent);
}

export const config = embedded("voice-config");
export const sitePages = embedded("site-pages");
