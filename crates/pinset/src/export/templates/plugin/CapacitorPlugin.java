{{provenance}}
//
// The Capacitor side of Pinset.fetch({url, …}) on Android: the request goes through
// pinset.PinsetHttp (the site's anchors and pins on OkHttp, TLS only), off the main thread.
// Needs the Android SDK to build (it extends Capacitor's Plugin).

package pinset.capacitor;

import android.content.pm.ApplicationInfo;
import com.getcapacitor.JSObject;
import com.getcapacitor.Plugin;
import com.getcapacitor.PluginCall;
import com.getcapacitor.PluginMethod;
import com.getcapacitor.annotation.CapacitorPlugin;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import pinset.PinsetHttp;

@CapacitorPlugin(name = "Pinset")
public class PinsetPlugin extends Plugin {
    private PinsetHttp http;

    @PluginMethod
    public void fetch(final PluginCall call) {
        new Thread(new Runnable() {
            @Override
            public void run() {
                try {
                    Map<String, String> headers = new HashMap<>();
                    JSObject given = call.getObject("headers", new JSObject());
                    Iterator<String> names = given.keys();
                    while (names.hasNext()) {
                        String name = names.next();
                        headers.put(name, given.getString(name));
                    }
                    PinsetHttp.Result result = http().fetch(
                            call.getString("url", ""),
                            call.getString("method", "GET"),
                            headers,
                            call.getString("body"),
                            call.getDouble("timeout", 30.0));
                    JSObject out = new JSObject();
                    out.put("status", result.status);
                    JSObject fields = new JSObject();
                    for (Map.Entry<String, String> h : result.headers.entrySet()) {
                        fields.put(h.getKey(), h.getValue());
                    }
                    out.put("headers", fields);
                    out.put("body", result.body);
                    out.put("url", result.url);
                    call.resolve(out);
                } catch (Exception e) {
                    call.reject(e.toString(), e);
                }
            }
        }).start();
    }

    /** The client, made once: debuggable apps also trust the exported proxy CA, if any. */
    private synchronized PinsetHttp http() throws Exception {
        if (http == null) {
            ApplicationInfo app = getContext().getApplicationInfo();
            http = new PinsetHttp((app.flags & ApplicationInfo.FLAG_DEBUGGABLE) != 0);
        }
        return http;
    }
}
