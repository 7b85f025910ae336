/**
 * One RemoteImage per distinct reference. It pulls only when the image is not already on the
 * daemon, so locally built images (images/build.sh) work without any registry.
 */
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";

export class ImageSet {
  private readonly images = new Map<string, docker.RemoteImage>();

  constructor(
    private readonly prefix: string,
    private readonly opts: pulumi.CustomResourceOptions,
  ) {}

  /** The image ID for `ref`, pulling it on first use. */
  id(ref: string): pulumi.Output<string> {
    let img = this.images.get(ref);
    if (!img) {
      const slug = ref.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
      // keepLocally: a destroy must not delete images other stacks (or the next up) still use.
      img = new docker.RemoteImage(
        `${this.prefix}-image-${slug}`,
        { name: ref, keepLocally: true },
        this.opts,
      );
      this.images.set(ref, img);
    }
    return img.imageId;
  }
}
