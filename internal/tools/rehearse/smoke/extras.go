package smoke

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// pbaRoutes sends the Packet Broker Agent's HTTP and gRPC APIs through the
// proxy and checks that they arrive at the agent's address.
func (s *scenario) pbaRoutes(ctx context.Context) (string, error) {
	res, err := s.web.do(ctx, http.MethodGet, "/api/v3/pba/info", nil, http.Header{"Authorization": {"Bearer " + s.token}})
	if err != nil {
		return "", err
	}
	gres, _, err := s.grpcCall(ctx, "/ttn.lorawan.v3.Pba/GetInfo")
	if err != nil {
		return "", err
	}
	seen := s.t.PBARequests()
	var missing []string
	for _, want := range []string{"1885 GET /api/v3/pba/info", "1884 POST /ttn.lorawan.v3.Pba/GetInfo"} {
		if !slices.Contains(seen, want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("the agent's address did not get %s (it got %v; the proxy answered HTTP %d: %s)", strings.Join(missing, ", "), seen, res.Status, snippet(res.Body))
	}
	var cluster []string
	for _, r := range seen {
		if strings.Contains(r, "/ttn.lorawan.v3.GsPba/") || strings.Contains(r, "/ttn.lorawan.v3.NsPba/") {
			cluster = append(cluster, strings.TrimPrefix(r, "1884 POST /ttn.lorawan.v3."))
		}
	}
	slices.Sort(cluster)
	cluster = slices.Compact(cluster)
	return fmt.Sprintf("GET /api/v3/pba/info → agent port 1885; gRPC Pba/GetInfo → agent port 1884 (answers of the stand-in: HTTP %d, grpc-status %s); cluster calls the agent got: %v",
		res.Status, gres.Header.Get("Grpc-Status"), cluster), nil
}

// pictures uploads a profile picture of the administrator and reads every
// size at the URL the Identity Server gives for it.
func (s *scenario) pictures(ctx context.Context) (string, error) {
	img := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for x := 0; x < 300; x++ {
		for y := 0; y < 300; y++ {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	var user struct {
		ProfilePicture struct {
			Sizes map[string]string `json:"sizes"`
		} `json:"profile_picture"`
	}
	err := s.web.api(ctx, http.MethodPut, "/api/v3/users/"+s.t.AdminUserID, s.token, map[string]any{
		"user": map[string]any{"profile_picture": map[string]any{"embedded": map[string]any{
			"mime_type": "image/png", "data": base64.StdEncoding.EncodeToString(buf.Bytes()),
		}}},
		"field_mask": map[string]any{"paths": []string{"profile_picture"}},
	}, nil)
	if err != nil {
		return "", err
	}
	if err := s.web.api(ctx, http.MethodGet, "/api/v3/users/"+s.t.AdminUserID+"?field_mask=profile_picture", s.token, nil, &user); err != nil {
		return "", err
	}
	if len(user.ProfilePicture.Sizes) == 0 {
		return "", fmt.Errorf("the user has no picture sizes after the upload")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.t.RootCAs, MinVersion: tls.VersionTLS12}}}
	var sizes []string
	for size, u := range user.ProfilePicture.Sizes {
		if !strings.HasPrefix(u, strings.TrimSuffix(s.t.PicturesURL, "/")+"/") {
			return "", fmt.Errorf("size %s is linked at %s, not under the distribution's %s", size, u, s.t.PicturesURL)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return "", err
		}
		res, err := client.Do(req)
		if err != nil {
			return "", err
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<20))
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: HTTP %d", u, res.StatusCode)
		}
		if _, _, err := image.Decode(bytes.NewReader(body)); err != nil {
			return "", fmt.Errorf("GET %s: not an image: %v", u, err)
		}
		sizes = append(sizes, size)
	}
	sort.Strings(sizes)
	// A key that is not a picture's is not served, though it is in the bucket.
	res, err := client.Get(strings.TrimSuffix(s.t.PicturesURL, "/") + "/interop-repository/config.yml")
	if err != nil {
		return "", err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		return "", fmt.Errorf("a key of another shape: HTTP %d, want 403", res.StatusCode)
	}
	return fmt.Sprintf("uploaded through PUT /api/v3/users/%s; sizes %s read as images at %s/...; another key: 403", s.t.AdminUserID, strings.Join(sizes, ", "), s.t.PicturesURL), nil
}
