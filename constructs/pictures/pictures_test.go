package pictures

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lorawan-stack-aws/tts-ecs/constructs/securebucket"
	"github.com/lorawan-stack-aws/tts-ecs/internal/diag"
	"github.com/lorawan-stack-aws/tts-ecs/internal/tools/cdktest"
)

// s3Match tells whether an S3 resource pattern (* any characters, ? one
// character, as in IAM resource ARNs) matches a key.
func s3Match(pattern, key string) bool {
	re := "^" + strings.NewReplacer(`\*`, ".*", `\?`, ".").Replace(regexp.QuoteMeta(pattern)) + "$"
	return regexp.MustCompile(re).MatchString(key)
}

// Keys as The Things Stack v3.32.1 stores them: unique.ID of the user or
// end device, a ULID, then one object per size (picture/picture.go Store).
func TestObjectPatternMatchesPictureKeysOnly(t *testing.T) {
	ulid := "01JDXKQ3M5ZP9V7R2T4W6Y8A0C"
	for _, key := range []string{
		"admin." + ulid + "/original.png",
		"admin." + ulid + "/64.png",
		"my-app.my-device." + ulid + "/512.jpg",
	} {
		if !s3Match(ObjectPattern, key) {
			t.Errorf("%s does not match %s", key, ObjectPattern)
		}
	}
	for _, key := range []string{
		"interop-repository/config.yml",
		"admin/original.png",
		"admin.short/original.png",
		"admin." + ulid,
	} {
		if s3Match(ObjectPattern, key) {
			t.Errorf("%s matches %s; only picture keys may", key, ObjectPattern)
		}
	}
}

func TestDistributionAloneReadsThePictures(t *testing.T) {
	stack := cdktest.Stack(t)
	logs, err := securebucket.New(stack, "Logs", securebucket.Props{LogReason: "holds the access logs of the test"})
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := securebucket.New(stack, "Pictures", securebucket.Props{AccessLogs: logs, AccessLogsPrefix: "pictures/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(stack, "Serve", Props{Bucket: bucket, Description: "test"}); err != nil {
		t.Fatal(err)
	}
	closedBucket, err := securebucket.New(stack, "Closed", securebucket.Props{AccessLogs: logs, AccessLogsPrefix: "closed/"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(stack, "ServeClosed", Props{Bucket: closedBucket, Description: "closed", Closed: true}); err != nil {
		t.Fatal(err)
	}
	_, err = New(stack, "Bad", Props{})
	if got, want := diag.FromError(err).Codes(), []string{"pictures.missing-bucket", "pictures.missing-description"}; !slices.Equal(got, want) {
		t.Errorf("empty props: codes %v, want %v (%v)", got, want, err)
	}
	tpl := cdktest.Synth(t, stack)
	var distID, dist string
	for id, d := range tpl.OfType("AWS::CloudFront::Distribution") {
		if strings.HasPrefix(id, "ServeDistribution") {
			distID, dist = id, cdktest.JSON(d.Properties)
		}
	}
	for id, pol := range tpl.OfType("AWS::S3::BucketPolicy") {
		if strings.Contains(cdktest.JSON(pol.Properties["Bucket"]), `"Closed`) && strings.Contains(cdktest.JSON(pol.Properties), "cloudfront") {
			t.Errorf("closed: bucket policy %s lets CloudFront read", id)
		}
	}
	for _, want := range []string{`"ViewerProtocolPolicy":"redirect-to-https"`, `"AllowedMethods":["GET","HEAD"]`, `"OriginAccessControlId":{"Fn::GetAtt":["ServeOriginAccess`, `"OriginAccessIdentity":""`} {
		if !strings.Contains(dist, want) {
			t.Errorf("distribution lacks %s: %s", want, dist)
		}
	}
	oac := cdktest.JSON(tpl.OfType("AWS::CloudFront::OriginAccessControl"))
	if !strings.Contains(oac, `"SigningBehavior":"always"`) || !strings.Contains(oac, `"OriginAccessControlOriginType":"s3"`) {
		t.Errorf("origin access control: %s", oac)
	}

	var allows []map[string]any
	for _, pol := range tpl.OfType("AWS::S3::BucketPolicy") {
		if !strings.Contains(cdktest.JSON(pol.Properties["Bucket"]), `"Pictures`) {
			continue
		}
		doc := pol.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			s := st.(map[string]any)
			if s["Effect"] == "Allow" {
				allows = append(allows, s)
			}
		}
	}
	if len(allows) != 1 {
		t.Fatalf("%d Allow statements in the bucket policies, want exactly the distribution's on the pictures bucket: %s", len(allows), cdktest.JSON(allows))
	}
	s := cdktest.JSON(allows[0])
	for _, want := range []string{
		`"Principal":{"Service":"cloudfront.amazonaws.com"}`,
		`"Action":"s3:GetObject"`,
		`"/` + ObjectPattern + `"]]}`,
		`"AWS:SourceArn":{"Fn::Join":["",["arn:aws:cloudfront::123456789012:distribution/",{"Fn::GetAtt":["` + distID + `","Id"]}]]}`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the bucket policy's Allow lacks %s: %s", want, s)
		}
	}
	if !strings.Contains(s, `{"Fn::GetAtt":["Pictures`) {
		t.Errorf("the Allow is not on the pictures bucket: %s", s)
	}
}
