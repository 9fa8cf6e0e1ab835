# shellcheck shell=bash
# images.sh: the images critest v1.34 pulls, made here from Debian's packages and pushed to a
# private registry (sourced by run.sh and inner.sh, not run).
#
# Every Linux image critest names is built: the same names, pulled through containerd's
# hosts.toml from a docker-registry on 127.0.0.1, so critest runs unchanged. The base is a
# busybox root filesystem like the upstream busybox image: one busybox binary hard-linked
# under every applet name in /bin. It is Debian's dynamically linked busybox (the "busybox"
# package's .deb, downloaded with apt-get and unpacked, not installed: it conflicts with
# busybox-static) with the host's libc: its shell runs `ls` by executing /bin/ls, as the
# upstream image's does, where busybox-static runs applets inside the shell, and critest's
# MaskedPaths spec masks /bin/ls and expects the shell to fail executing it. tests/cmd/standin
# (one static Go binary) stands in for what Debian's busybox lacks: pgrep and ipcs in the base,
# and nginx, httpd, the nonewprivs image's setuid helper and Kubernetes' pause, each in its image.
#
# Layers are gzipped tars; images are OCI manifests. A blob store in $IMG/blobs holds every
# blob once; $IMG/list has one line per image: "REPOSITORY TAG MANIFEST-DIGEST", REPOSITORY
# being the path in the registry (the part after registry.k8s.io/ or gcr.io/).

IMG=${IMG:-}
IMG_BUSYBOX_DEB_DIR=${IMG_BUSYBOX_DEB_DIR:-${CRI_CACHE:-${HOME:-/root}/.cache/husk-cri}}

# images_fetch_busybox_deb: the path of Debian's busybox .deb in $IMG_BUSYBOX_DEB_DIR, downloaded
# (apt-get download, not installed) when missing.
images_fetch_busybox_deb() {
	local deb
	mkdir -p "$IMG_BUSYBOX_DEB_DIR"
	deb=$(ls "$IMG_BUSYBOX_DEB_DIR"/busybox_*.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		(cd "$IMG_BUSYBOX_DEB_DIR" && { apt-get download -q busybox >/dev/null 2>&1 ||
			{ apt-get update -qq && apt-get download -q busybox >/dev/null; }; }) || {
			echo "images: cannot download Debian's busybox package" >&2
			return 1
		}
		deb=$(ls "$IMG_BUSYBOX_DEB_DIR"/busybox_*.deb | head -n 1)
	fi
	echo "$deb"
}

# images_base_rootfs DIR STANDIN: the busybox root filesystem.
images_base_rootfs() {
	local dir=$1 standin=$2 deb tmp applet lib
	deb=$(images_fetch_busybox_deb) || return 1
	tmp=$(mktemp -d "$IMG/deb-XXXXXX")
	dpkg-deb -x "$deb" "$tmp" || return 1
	mkdir -p "$dir"/{bin,etc,proc,sys,dev,tmp,root,home,var/run,var/www,usr/sbin,usr/local/bin,lib64,lib/x86_64-linux-gnu}
	cp "$tmp/bin/busybox" "$dir/bin/busybox"
	rm -rf "$tmp"
	for applet in $("$dir/bin/busybox" --list); do
		[ -e "$dir/bin/$applet" ] || ln "$dir/bin/busybox" "$dir/bin/$applet"
	done
	# The shared objects busybox needs, from the host (the same Debian release built it).
	for lib in $(ldd "$dir/bin/busybox" | awk '$3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
		mkdir -p "$dir$(dirname "$lib")"
		cp -L "$lib" "$dir$lib"
	done
	cp "$standin" "$dir/bin/pgrep"
	ln "$dir/bin/pgrep" "$dir/bin/ipcs"
	chmod 1777 "$dir/tmp"
	cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
	cat >"$dir/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
EOF
}

# images_layer DIR: packs DIR into a gzipped layer in the blob store and prints
# "DIGEST DIFF_ID SIZE".
images_layer() {
	local dir=$1 tar diff gz digest
	tar=$(mktemp "$IMG/layer-XXXXXX")
	tar --numeric-owner --sort=name --mtime=@0 -C "$dir" -cf "$tar" . || return 1
	diff=sha256:$(sha256sum "$tar" | cut -d' ' -f1)
	gz=$tar.gz
	gzip -n -c "$tar" >"$gz"
	rm -f "$tar"
	digest=$(sha256sum "$gz" | cut -d' ' -f1)
	mv "$gz" "$IMG/blobs/$digest"
	echo "sha256:$digest $diff $(stat -c %s "$IMG/blobs/$digest")"
}

# images_blob FILE: moves FILE into the blob store; prints "DIGEST SIZE".
images_blob() {
	local digest
	digest=$(sha256sum "$1" | cut -d' ' -f1)
	local size
	size=$(stat -c %s "$1")
	mv "$1" "$IMG/blobs/$digest"
	echo "sha256:$digest $size"
}

# images_add REF CONFIG_JSON LAYER...: an image REF (REPOSITORY:TAG as the registry names it)
# with the image config CONFIG_JSON (merged over the defaults) and the layers (lines of
# images_layer), in order.
images_add() {
	local ref=$1 config=$2
	shift 2
	local digests=() diffs=() sizes=() l d f s
	for l in "$@"; do
		read -r d f s <<<"$l"
		digests+=("$d")
		diffs+=("$f")
		sizes+=("$s")
	done
	local cfile=$IMG/config.json cdigest csize
	jq -cn --argjson over "$config" --args '{
		architecture: "amd64", os: "linux",
		config: ({Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			Cmd: ["sh"], WorkingDir: "/"} + $over),
		rootfs: {type: "layers", diff_ids: $ARGS.positional},
		history: [{created_by: "husk tests/cri/images.sh"}]
	}' "${diffs[@]}" >"$cfile"
	read -r cdigest csize <<<"$(images_blob "$cfile")"
	local layers='[]' i
	for i in "${!digests[@]}"; do
		layers=$(jq -c --arg d "${digests[$i]}" --argjson s "${sizes[$i]}" \
			'. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}]' <<<"$layers")
	done
	local mfile=$IMG/manifest.json mdigest
	jq -cn --arg c "$cdigest" --argjson cs "$csize" --argjson layers "$layers" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		layers: $layers
	}' >"$mfile"
	read -r mdigest _ <<<"$(images_blob "$mfile")"
	echo "${ref%:*} ${ref##*:} $mdigest" >>"$IMG/list"
}

# images_build DIR STANDIN: builds every image into DIR (blob store and list).
images_build() {
	IMG=$1
	local standin=$2 base root l
	rm -rf "$IMG"
	mkdir -p "$IMG/blobs"
	: >"$IMG/list"
	root=$IMG/rootfs
	images_base_rootfs "$root/base" "$standin" || return 1
	base=$(images_layer "$root/base") || return 1

	# registry.k8s.io/e2e-test-images/...
	local e2e=e2e-test-images
	images_add "$e2e/busybox:1.29-2" '{}' "$base"
	mkdir -p "$root/nginx/usr/sbin" "$root/nginx/usr/share/nginx/html"
	cp "$standin" "$root/nginx/usr/sbin/nginx"
	l=$(images_layer "$root/nginx")
	images_add "$e2e/nginx:1.14-2" '{"Cmd": ["nginx", "-g", "daemon off;"]}' "$base" "$l"
	# gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64: nginx on port 12003 in the host network
	images_add "k8s-staging-cri-tools/hostnet-nginx-amd64:latest" \
		'{"Cmd": ["nginx", "-g", "daemon off;"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "STANDIN_LISTEN=:12003"]}' "$base" "$l"
	mkdir -p "$root/httpd/usr/local/apache2/bin"
	cp "$standin" "$root/httpd/usr/local/apache2/bin/httpd"
	l=$(images_layer "$root/httpd")
	images_add "$e2e/httpd:2.4.39-4" \
		'{"Cmd": ["httpd"], "Env": ["PATH=/usr/local/apache2/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' "$base" "$l"
	mkdir -p "$root/nnp/usr/local/bin"
	cp "$standin" "$root/nnp/usr/local/bin/nnp"
	chmod 4755 "$root/nnp/usr/local/bin/nnp"
	l=$(images_layer "$root/nnp")
	images_add "$e2e/nonewprivs:1.3" '{"Cmd": ["/usr/local/bin/nnp"]}' "$base" "$l"
	# registry.k8s.io/pause: containerd's sandbox image (config: sandbox_image)
	mkdir -p "$root/pause"
	cp "$standin" "$root/pause/pause"
	l=$(images_layer "$root/pause")
	images_add "pause:3.6" '{"Cmd": ["/pause"], "Env": []}' "$l"

	# gcr.io/k8s-staging-cri-tools/...: images with a USER (cri-tools' images/image-user)
	local cri=k8s-staging-cri-tools name user
	for name in uid:1002 username:www-data uid-group:1003:1004 username-group:www-data:1004; do
		user=${name#*:}
		images_add "$cri/test-image-user-${name%%:*}:latest" "$(jq -cn --arg u "$user" '{User: $u}')" "$base"
	done
	# images/image-predefined-group: a user 1000 whose group 50000 comes from the image
	mkdir -p "$root/group/etc"
	sed '$a default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh' "$root/base/etc/passwd" >"$root/group/etc/passwd"
	sed '$a default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user' "$root/base/etc/group" >"$root/group/etc/group"
	mkdir -p "$root/group/home/default-user"
	l=$(images_layer "$root/group")
	images_add "$cri/test-image-predefined-group:latest" '{"User": "1000"}' "$base" "$l"
	# images/image-test: busybox plus a file named after the image, so that different names
	# are different images and the tags of one name are one image
	for name in test-image-latest:latest test-image-1:latest test-image-2:latest test-image-3:latest \
		test-image-tag:test test-image-tags:1; do
		mkdir -p "$root/${name%%:*}"
		touch "$root/${name%%:*}/${name%%:*}"
		l=$(images_layer "$root/${name%%:*}")
		images_add "$cri/$name" '{}' "$base" "$l"
	done
	images_tag "$cri/test-image-tag" test all
	images_tag "$cri/test-image-tags" 1 2
	images_tag "$cri/test-image-tags" 1 3
	rm -rf "$root" "$IMG/config.json" "$IMG/manifest.json"
}

# images_tag REPOSITORY TAG NEWTAG: NEWTAG names the same manifest as TAG.
images_tag() {
	local digest
	digest=$(awk -v r="$1" -v t="$2" '$1 == r && $2 == t {print $3}' "$IMG/list")
	echo "$1 $3 $digest" >>"$IMG/list"
}

# images_push URL: pushes every image of $IMG/list to the registry at URL (http://HOST:PORT)
# through its HTTP API: each blob once per repository (mounted from another repository when
# it is already there), then the manifest under its tag.
images_push() {
	local url=$1 repo tag mdigest b first loc
	declare -A where=()
	while read -r repo tag mdigest; do
		for b in $(jq -r '.config.digest, .layers[].digest' "$IMG/blobs/${mdigest#sha256:}") "$mdigest"; do
			[ "$b" = "$mdigest" ] && continue
			if curl -sfI "$url/v2/$repo/blobs/$b" >/dev/null; then
				continue
			fi
			first=${where[$b]:-}
			if [ -n "$first" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
				"$url/v2/$repo/blobs/uploads/?mount=$b&from=$first")" = 201 ]; then
				continue
			fi
			loc=$(curl -sf -X POST -D - -o /dev/null "$url/v2/$repo/blobs/uploads/" |
				awk 'tolower($1) == "location:" {print $2}' | tr -d '\r')
			[ -n "$loc" ] || { echo "images: no upload location for $repo" >&2; return 1; }
			case $loc in http*) ;; *) loc=$url$loc ;; esac
			case $loc in *\?*) loc="$loc&digest=$b" ;; *) loc="$loc?digest=$b" ;; esac
			curl -sf -X PUT -H 'Content-Type: application/octet-stream' \
				--data-binary "@$IMG/blobs/${b#sha256:}" "$loc" >/dev/null || {
				echo "images: upload of $b to $repo failed" >&2
				return 1
			}
			where[$b]=$repo
		done
		curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary "@$IMG/blobs/${mdigest#sha256:}" "$url/v2/$repo/manifests/$tag" >/dev/null || {
			echo "images: manifest $repo:$tag rejected" >&2
			return 1
		}
	done <"$IMG/list"
}
