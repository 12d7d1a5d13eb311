{{provenance}}
//
// The Cordova side of pinset.fetch(url, options) on Android: the request goes through
// pinset.PinsetHttp (the site's anchors and pins on OkHttp, TLS only), on Cordova's thread
// pool. Needs the Android SDK to build (it extends Cordova's CordovaPlugin).

package pinset.cordova;

import android.content.pm.ApplicationInfo;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.cordova.CallbackContext;
import org.apache.cordova.CordovaPlugin;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;
import pinset.PinsetHttp;

public class PinsetPlugin extends CordovaPlugin {
    private PinsetHttp http;

    @Override
    public boolean execute(String action, JSONArray args, final CallbackContext callback) throws JSONException {
        if (!"fetch".equals(action)) {
            return false;
        }
        final String url = args.getString(0);
        final JSONObject options = args.optJSONObject(1) == null ? new JSONObject() : args.optJSONObject(1);
        cordova.getThreadPool().execute(new Runnable() {
            @Override
            public void run() {
                try {
                    Map<String, String> headers = new HashMap<>();
                    JSONObject given = options.optJSONObject("headers");
                    if (given != null) {
                        Iterator<String> names = given.keys();
                        while (names.hasNext()) {
                            String name = names.next();
                            headers.put(name, given.getString(name));
                        }
                    }
                    PinsetHttp.Result result = http().fetch(
                            url,
                            options.optString("method", "GET"),
                            headers,
                            options.has("body") ? options.getString("body") : null,
                            options.optDouble("timeout", 30));
                    JSONObject out = new JSONObject();
                    out.put("status", result.status);
                    out.put("headers", new JSONObject(result.headers));
                    out.put("body", result.body);
                    out.put("url", result.url);
                    callback.success(out);
                } catch (Exception e) {
                    callback.error(e.toString());
                }
            }
        });
        return true;
    }

    /** The client, made once: debuggable apps also trust the exported proxy CA, if any. */
    private synchronized PinsetHttp http() throws Exception {
        if (http == null) {
            ApplicationInfo app = cordova.getContext().getApplicationInfo();
            http = new PinsetHttp((app.flags & ApplicationInfo.FLAG_DEBUGGABLE) != 0);
        }
        return http;
    }
}
