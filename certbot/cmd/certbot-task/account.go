package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/lorawan-stack-aws/tts-ecs/certbot/certsecret"
)

// accountDoc is the ACME account secret: certbot's accounts/ tree (account
// key, registration, metadata per ACME server), keyed by path relative to
// the config directory.
type accountDoc struct {
	Format int               `json:"format"`
	Files  map[string]string `json:"files"`
}

const (
	accountFormat   = 1
	accountsDir     = "accounts"
	maxAccountFiles = 64
	maxAccountBytes = 48 << 10 // Secrets Manager allows 64 KiB per value
)

// accountStore keeps certbot's ACME account in its own secret, so that a
// fresh task (empty /etc/letsencrypt) reuses the account instead of
// registering a new one on every run. It is a separate secret from the
// certificate because the proxy may read the certificate but must never
// read the account key.
type accountStore struct {
	sm        certsecret.SecretsManagerAPI
	secretID  string // empty: account reuse disabled
	configDir string
	log       *slog.Logger
}

// restore writes the stored account files into the config directory and
// returns what it restored (nil when nothing was stored).
func (a accountStore) restore(ctx context.Context) (*accountDoc, error) {
	if a.secretID == "" {
		a.log.Warn("ACME_ACCOUNT_SECRET_ID is not set: certbot registers a new ACME account on every run that issues")
		return nil, nil
	}
	raw, err := certsecret.Store{Client: a.sm, SecretID: a.secretID}.GetRaw(ctx)
	if errors.Is(err, certsecret.ErrNotFound) {
		a.log.Info("no ACME account stored yet; certbot will register one and it will be saved", "secret", a.secretID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc accountDoc
	if err := json.Unmarshal(raw.Data, &doc); err != nil || doc.Format != accountFormat || len(doc.Files) == 0 {
		a.log.Warn("stored ACME account is unreadable, a new account will be registered and saved", "secret", a.secretID, "err", err)
		return nil, nil
	}
	for rel, content := range doc.Files {
		if !validRel(rel) {
			return nil, fmt.Errorf("account secret %s holds an unexpected path %q", a.secretID, rel)
		}
		p := filepath.Join(a.configDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, fmt.Errorf("restore ACME account: %w", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			return nil, fmt.Errorf("restore ACME account: %w", err)
		}
	}
	a.log.Info("ACME account restored", "secret", a.secretID, "files", len(doc.Files))
	return &doc, nil
}

// save stores the accounts/ tree when it differs from what was restored.
func (a accountStore) save(ctx context.Context, restored *accountDoc) error {
	if a.secretID == "" {
		return nil
	}
	doc, err := a.snapshot()
	if err != nil {
		return err
	}
	if len(doc.Files) == 0 || (restored != nil && maps.Equal(doc.Files, restored.Files)) {
		return nil
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	_, err = a.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(a.secretID),
		SecretString:       aws.String(string(data)),
		ClientRequestToken: aws.String(hex.EncodeToString(sum[:16])),
	})
	if err != nil {
		return fmt.Errorf("store ACME account in %s (check secretsmanager:PutSecretValue on it): %w", a.secretID, err)
	}
	a.log.Info("ACME account saved", "secret", a.secretID, "files", len(doc.Files))
	return nil
}

func (a accountStore) snapshot() (*accountDoc, error) {
	doc := &accountDoc{Format: accountFormat, Files: map[string]string{}}
	root := filepath.Join(a.configDir, accountsDir)
	total := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == root {
				return fs.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(a.configDir, p)
		if err != nil {
			return err
		}
		total += len(b)
		if len(doc.Files) >= maxAccountFiles || total > maxAccountBytes {
			return fmt.Errorf("%s holds more than %d files or %d bytes; it should hold one account per ACME server", root, maxAccountFiles, maxAccountBytes)
		}
		doc.Files[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read certbot accounts: %w", err)
	}
	return doc, nil
}

func validRel(rel string) bool {
	return strings.HasPrefix(rel, accountsDir+"/") && path.Clean(rel) == rel && !strings.Contains(rel, "..") &&
		!bytes.ContainsAny([]byte(rel), "\\\x00")
}
