package framework

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newBrowser starts headless Chromium for the test (bounded to 60 s) and
// returns its context and the folder for screenshots: the test's temp dir,
// or LASP_SCREENSHOTS to keep them. Without chromium the test is skipped;
// with CI=true that is a failure (.ci/run installs chromium).
func newBrowser(t *testing.T) (ctx context.Context, shots string) {
	t.Helper()
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install chromium); CI=true needs the browser test")
		}
		t.Skip("chromium is not installed (apt-get install chromium)")
	}
	shots = os.Getenv("LASP_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1200, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelBrowser := chromedp.NewContext(ctx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	return ctx, shots
}

// findBrowser is the path of Chromium, or "" when it is not installed.
func findBrowser() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserSampleApp drives a real browser (Debian's chromium, headless,
// through the DevTools protocol) through Lasp Shop: signing in, adding a
// tea to the cart, checking out, uploading an avatar, searching with the
// fetch() box and signing out. After each step it saves a full-page
// screenshot, NN-step.png, in the test's temp dir (or in the folder
// LASP_SCREENSHOTS names, to keep them), and checks what a person sees.
//
// Without chromium the test is skipped; with CI=true that is a failure
// (.ci/run installs chromium).
func TestBrowserSampleApp(t *testing.T) {
	ctx, shots := newBrowser(t)
	a := serveSampleApp(t, nil)

	// The avatar to upload: a real 64×64 PNG.
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 4), 111, uint8(y * 4), 255})
		}
	}
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		t.Fatal(err)
	}
	avatar := filepath.Join(t.TempDir(), "me.png")
	if err := os.WriteFile(avatar, pngData.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	step := 0
	// shot saves a full-page screenshot of the step called name.
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			step++
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, fmt.Sprintf("%02d-%s.png", step, name)), buf, 0o644)
		})
	}
	// sees fails the step unless the text of the element sel selects
	// contains each of wants.
	sees := func(sel string, wants ...string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			text, err := chromedp.Text(chromedp.CSS(sel))(ctx, tg)
			if err != nil {
				return err
			}
			for _, w := range wants {
				if !strings.Contains(text, w) {
					return fmt.Errorf("%s shows %q, without %q", sel, text, w)
				}
			}
			return nil
		})
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
	}{
		{"home", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(a.URL + "/"),
			chromedp.WaitVisible(css(".grid .product")),
			sees("h1", "Fine teas, brewed in Lua"),
			sees(".grid", "Sencha Green Tea", "Jasmine Pearls", "Sold out"),
		}},
		{"login", []chromedp.Action[chromedp.Void]{
			chromedp.Click(css(`header a[href="/login.lasp"]`)),
			chromedp.WaitVisible(css("#username")),
			chromedp.SendKeys(css("#username"), "demo"),
			chromedp.SendKeys(css("#password"), "demo"),
			chromedp.Click(css("#signin")),
			chromedp.WaitVisible(css("#logout")),
			sees("h1", "Hello, Demo Customer"),
			sees("header.site", "Demo Customer", "Sign out"),
		}},
		{"add-to-cart", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(a.URL + "/"),
			chromedp.Click(css(`.grid a[href="/product.lasp?id=4"]`)),
			chromedp.WaitVisible(css("#add")),
			sees("h1", "Jasmine Pearls"),
			chromedp.Click(css("#add")),
			chromedp.WaitVisible(css("#cart-count")),
			sees("#cart-count", "1"),
			sees("table.cart", "Jasmine Pearls", "$18.00"),
		}},
		{"checkout", []chromedp.Action[chromedp.Void]{
			chromedp.Click(css("#checkout")),
			chromedp.WaitVisible(css("#order-placed")),
			sees("#order-placed", "Order #1 is on its way", "$18.00"),
		}},
		{"upload", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(a.URL + "/account.lasp"),
			chromedp.WaitVisible(css("#avatar-file")),
			sees(".orders", "Order #1", "1 × Jasmine Pearls"),
			chromedp.SetUploadFiles(css("#avatar-file"), []string{avatar}),
			chromedp.Click(css("#upload")),
			chromedp.WaitVisible(css("#upload-ok")),
			sees("#upload-ok", "me.png", fmt.Sprintf("(%d bytes)", pngData.Len())),
			// The picture shown is the one uploaded, 64 pixels wide.
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := chromedp.Poll[bool](`(() => { const i = document.getElementById("avatar"); return i.complete && i.naturalWidth === 64; })()`)(ctx, tg)
				return err
			}),
		}},
		{"search", []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(a.URL + "/"),
			chromedp.WaitVisible(css("#q")),
			chromedp.SendKeys(css("#q"), "chai"),
			chromedp.WaitVisible(css("#results li a")),
			sees("#results", "Masala Chai", "$10.50"),
		}},
		{"logout", []chromedp.Action[chromedp.Void]{
			chromedp.Click(css("#logout")),
			chromedp.WaitVisible(css("#signed-out")),
			sees("h1", "You are signed out"),
		}},
	}
	start := time.Now()
	for _, s := range steps {
		if err := chromedp.Do(ctx, append(s.actions, shot(s.name))...); err != nil {
			t.Fatalf("step %s: %v\nlog:\n%s", s.name, err, a.log.String())
		}
	}
	t.Logf("%d steps in %v; screenshots in %s", len(steps), time.Since(start).Round(time.Millisecond), shots)
}

// TestBrowserStatus opens the operators' status page in Chromium while a
// page holds its session's lock with a request waiting, saves a
// screenshot (status.png) and checks what an operator sees.
func TestBrowserStatus(t *testing.T) {
	ctx, shots := newBrowser(t)
	a := newApp(t, map[string]string{
		"start.lasp": `<% Session["x"] = 1 %>`,
		"hold.lasp":  `<% Server.Sleep(2) %>`,
	})
	c := client(t, a)
	mustFetch(t, a, c, "/start.lasp")
	done := make(chan struct{}, 2)
	go func() { fetch(t, a, c, "/hold.lasp"); done <- struct{}{} }()
	waitSessionLock(t, a, func(int) bool { return true })
	go func() { fetch(t, a, c, "/start.lasp"); done <- struct{}{} }()
	waitSessionLock(t, a, func(w int) bool { return w == 1 })
	admin := httptest.NewServer(a.srv.StatusHandler())
	t.Cleanup(admin.Close)

	var locks, cards string
	var shot []byte
	err := chromedp.Do(ctx,
		chromedp.Navigate(admin.URL+"/status"),
		chromedp.WaitVisible(chromedp.CSS("table.list")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) (err error) {
			if locks, err = chromedp.Text(chromedp.CSS("table.list"))(ctx, tg); err != nil {
				return err
			}
			if cards, err = chromedp.Text(chromedp.CSS(".cards"))(ctx, tg); err != nil {
				return err
			}
			shot, err = chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "status.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/hold.lasp", "release"} {
		if !strings.Contains(locks, want) {
			t.Errorf("the locks table shows %q, without %q", locks, want)
		}
	}
	for _, want := range []string{"requests in flight", "sessions (memory store)", "Lua states in use / idle"} {
		if !strings.Contains(cards, want) {
			t.Errorf("the summary shows %q, without %q", cards, want)
		}
	}
	<-done
	<-done
}
