// Package fakeiam is an in-memory stand-in for the IAM access key calls of
// the deploy-time function (deployres.IAMAPI): CreateAccessKey,
// DeleteAccessKey and ListAccessKeys, with IAM's limit of two keys per user
// and its errors (LimitExceeded, NoSuchEntity). Tests and the rehearsal use
// it; it is safe for concurrent use.
package fakeiam

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// MaxKeysPerUser is IAM's quota of access keys per user.
const MaxKeysPerUser = 2

// IAM holds users (created on their first key) and their access keys.
type IAM struct {
	mu    sync.Mutex
	users map[string]map[string]string // user → key id → secret access key
	// Created counts every key ever created.
	created int
}

// New returns an empty IAM.
func New() *IAM { return &IAM{users: map[string]map[string]string{}} }

// CreateAccessKey creates a key of a user: AKIA and 16 upper-case letters or
// digits, and a 40-character secret.
func (f *IAM) CreateAccessKey(_ context.Context, in *iam.CreateAccessKeyInput, _ ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	user := aws.ToString(in.UserName)
	if user == "" {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("UserName is required")}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.users[user] == nil {
		f.users[user] = map[string]string{}
	}
	if len(f.users[user]) >= MaxKeysPerUser {
		return nil, &iamtypes.LimitExceededException{Message: aws.String(fmt.Sprintf("Cannot exceed quota for AccessKeysPerUser: %d", MaxKeysPerUser))}
	}
	id := "AKIA" + randomID(16)
	secret := randomSecret()
	f.users[user][id] = secret
	f.created++
	return &iam.CreateAccessKeyOutput{AccessKey: &iamtypes.AccessKey{
		UserName: aws.String(user), AccessKeyId: aws.String(id), SecretAccessKey: aws.String(secret), Status: iamtypes.StatusTypeActive,
	}}, nil
}

// DeleteAccessKey deletes a key of a user.
func (f *IAM) DeleteAccessKey(_ context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	user, id := aws.ToString(in.UserName), aws.ToString(in.AccessKeyId)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.users[user][id]; !ok {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String(fmt.Sprintf("The Access Key with id %s cannot be found.", id))}
	}
	delete(f.users[user], id)
	return &iam.DeleteAccessKeyOutput{}, nil
}

// ListAccessKeys lists the keys of a user, sorted by id.
func (f *IAM) ListAccessKeys(_ context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	user := aws.ToString(in.UserName)
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &iam.ListAccessKeysOutput{}
	for _, id := range f.keys(user) {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, iamtypes.AccessKeyMetadata{
			UserName: aws.String(user), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeActive,
		})
	}
	return out, nil
}

// Keys returns the key ids of a user, sorted.
func (f *IAM) Keys(user string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.keys(user)
}

// SecretAccessKey returns the secret of a key, as the caller of
// CreateAccessKey saw it.
func (f *IAM) SecretAccessKey(user, id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.users[user][id]
	return s, ok
}

// Created is the number of keys ever created.
func (f *IAM) Created() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created
}

func (f *IAM) keys(user string) []string {
	var ids []string
	for id := range f.users[user] {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func randomID(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func randomSecret() string {
	b := make([]byte, 30)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
