/*
 * libusb-usbip: a replacement libusb-1.0.so.0 that reaches USB devices over USB/IP instead of the kernel.
 *
 * Built as `libusb-1.0.so.0` (soname) and loaded with LD_LIBRARY_PATH, it lets the unmodified dfu-util 0.11
 * and pyusb (libusb1 backend) talk to a device exported by a USB/IP server, such as `dfukit emulate`, on a
 * machine without kernel USB. Test-only code for dfukit's peer tests; never installed.
 *
 *   DFUKIT_USBIP=HOST:PORT   the server (default 127.0.0.1:3240; IPv6 as [::1]:3240)
 *   DFUKIT_USBIP_DEBUG=1     print every URB on stderr
 *
 * What it implements (the functions dfu-util 0.11 imports and pyusb 1.2.1's libusb1 backend binds; the list
 * and the expected answers are in shared/reference/peers.md part B):
 *  - libusb_get_device_list: OP_REQ_DEVLIST on a short connection, then OP_REQ_IMPORT of each device on its own
 *    connection, which stays open and carries that device's URBs; the device and configuration descriptors are
 *    read through GET_DESCRIPTOR at import, because libusb_get_config_descriptor works before libusb_open. A
 *    device still imported (same busid and device number, connection open) is reused, as libusb keeps one
 *    libusb_device per attached device.
 *  - libusb_get_config_descriptor: the raw configuration parsed into libusb's tree; class-specific descriptors
 *    (the DFU functional descriptor) go into the `extra` of the preceding altsetting, as libusb files them.
 *  - libusb_control_transfer: one USBIP_CMD_SUBMIT on ep0; RET_SUBMIT status -EPIPE is LIBUSB_ERROR_PIPE (STALL);
 *    no reply within the timeout sends USBIP_CMD_UNLINK and returns LIBUSB_ERROR_TIMEOUT; a closed connection is
 *    LIBUSB_ERROR_NO_DEVICE (the device left the bus: DFU leave).
 *  - libusb_set_interface_alt_setting / set_configuration: SET_INTERFACE / SET_CONFIGURATION URBs (the alt
 *    selects the memory DfuSe commands act on); claim/release stay local, as in libusb.
 *  - libusb_reset_device: SetPortFeature(PORT_RESET) (bmRequestType 0x23, wValue 4), which the Linux stub server
 *    and dfukit emulate take as a device reset; LIBUSB_ERROR_NOT_FOUND when the device has re-enumerated.
 *  - pyusb binds more symbols at load time: the asynchronous API, bulk/interrupt and kernel-driver functions
 *    exist and answer LIBUSB_ERROR_NOT_SUPPORTED or a harmless value; this device has only ep0.
 * Single-threaded callers only (dfu-util and pyusb's synchronous API are).
 */
#include <libusb.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define OP_REQ_DEVLIST 0x8005
#define OP_REP_DEVLIST 0x0005
#define OP_REQ_IMPORT 0x8003
#define OP_REP_IMPORT 0x0003
#define USBIP_VERSION 0x0111
#define CMD_SUBMIT 1
#define CMD_UNLINK 2
#define RET_SUBMIT 3
#define RET_UNLINK 4
#define DEVICE_RECORD 312 /* path[256] busid[32] busnum devnum speed (u32) idVendor idProduct bcdDevice (u16) 6 x u8 */
#define MAX_DEVICES 16
#define MAX_CONFIGS 8
#define UNLINK_WAIT_MS 1000

struct libusb_context {
	int unused;
};

struct libusb_device {
	int refcnt;
	int fd; /* the import connection; -1 once the device is gone */
	uint32_t seq;
	uint32_t stale_seq; /* an unlinked URB whose late RET_SUBMIT may still arrive */
	int stale_in;
	char busid[32];
	uint32_t busnum, devnum, speed;
	uint8_t devdesc[18];
	int nconfig;
	uint8_t *config[MAX_CONFIGS];
	int configlen[MAX_CONFIGS];
	struct libusb_device *next; /* registry of imported devices */
};

struct libusb_device_handle {
	struct libusb_device *dev;
};

static struct libusb_device *registry;

static int debug_on(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("DFUKIT_USBIP_DEBUG");
		v = e != NULL && *e != '\0' && strcmp(e, "0") != 0;
	}
	return v;
}

#define DBG(...)                                                 \
	do {                                                     \
		if (debug_on())                                  \
			fprintf(stderr, "libusb-usbip: " __VA_ARGS__); \
	} while (0)

/* ---------------------------------------------------------------------------------------------------- */
/* Bytes and sockets */

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

/* 0: read; -1: closed or error; -2: timeout (timeout_ms <= 0: wait forever). */
static int read_all(int fd, uint8_t *b, size_t n, int timeout_ms)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	while (n > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait = -1;
		if (timeout_ms > 0) {
			long long left = deadline - now_ms();
			if (left <= 0)
				return -2;
			wait = (int)left;
		}
		int r = poll(&p, 1, wait);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return -2;
		ssize_t got = recv(fd, b, n, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return -1;
		b += got;
		n -= (size_t)got;
	}
	return 0;
}

static int discard(int fd, size_t n, int timeout_ms)
{
	uint8_t tmp[512];
	while (n > 0) {
		size_t k = n < sizeof(tmp) ? n : sizeof(tmp);
		int r = read_all(fd, tmp, k, timeout_ms);
		if (r != 0)
			return r;
		n -= k;
	}
	return 0;
}

/* Connects to DFUKIT_USBIP (HOST:PORT, [V6]:PORT); -1 when nothing listens there. */
static int usbip_connect(void)
{
	const char *env = getenv("DFUKIT_USBIP");
	char host[256] = "127.0.0.1", port[16] = "3240";
	if (env != NULL && *env != '\0') {
		const char *colon;
		if (env[0] == '[') {
			const char *end = strchr(env, ']');
			if (end == NULL || (size_t)(end - env - 1) >= sizeof(host))
				return -1;
			memcpy(host, env + 1, (size_t)(end - env - 1));
			host[end - env - 1] = '\0';
			colon = end[1] == ':' ? end + 1 : NULL;
		} else {
			colon = strrchr(env, ':');
			size_t hl = colon != NULL ? (size_t)(colon - env) : strlen(env);
			if (hl >= sizeof(host))
				return -1;
			memcpy(host, env, hl);
			host[hl] = '\0';
		}
		if (colon != NULL && strlen(colon + 1) < sizeof(port))
			strcpy(port, colon + 1);
	}
	struct addrinfo hints, *res, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	int fd = -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	} else {
		DBG("no USB/IP server at %s:%s\n", host, port);
	}
	return fd;
}

/* ---------------------------------------------------------------------------------------------------- */
/* URBs on ep0 */

static void mark_gone(struct libusb_device *dev)
{
	if (dev->fd >= 0) {
		DBG("%s (device %u): connection closed\n", dev->busid, dev->devnum);
		close(dev->fd);
	}
	dev->fd = -1;
}

static int urb_status_to_libusb(int32_t status)
{
	switch (status) {
	case -32: /* EPIPE: STALL */
		return LIBUSB_ERROR_PIPE;
	case -110: /* ETIMEDOUT */
		return LIBUSB_ERROR_TIMEOUT;
	case -19: /* ENODEV */
	case -108: /* ESHUTDOWN */
		return LIBUSB_ERROR_NO_DEVICE;
	case -75: /* EOVERFLOW */
		return LIBUSB_ERROR_OVERFLOW;
	default:
		return LIBUSB_ERROR_IO;
	}
}

/* One control transfer: the byte count, or a LIBUSB_ERROR. timeout_ms 0 waits forever, as libusb does. */
static int urb(struct libusb_device *dev, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue, uint16_t wIndex,
	       unsigned char *data, uint16_t wLength, unsigned int timeout_ms)
{
	if (dev->fd < 0)
		return LIBUSB_ERROR_NO_DEVICE;
	int in = (bmRequestType & 0x80) != 0;
	uint32_t seq = ++dev->seq;
	uint32_t devid = dev->busnum << 16 | (dev->devnum & 0xffff);
	size_t out = in ? 0 : wLength;
	uint8_t *msg = calloc(1, 48 + out);
	if (msg == NULL)
		return LIBUSB_ERROR_NO_MEM;
	put32(msg, CMD_SUBMIT);
	put32(msg + 4, seq);
	put32(msg + 8, devid);
	put32(msg + 12, in ? 1 : 0);
	put32(msg + 16, 0);          /* ep */
	put32(msg + 20, 0);          /* transfer_flags */
	put32(msg + 24, wLength);    /* transfer_buffer_length */
	put32(msg + 28, 0);          /* start_frame */
	put32(msg + 32, 0xffffffff); /* number_of_packets: not ISO */
	put32(msg + 36, 0);          /* interval */
	msg[40] = bmRequestType;     /* setup, USB (little-endian) order */
	msg[41] = bRequest;
	msg[42] = wValue & 0xff;
	msg[43] = wValue >> 8;
	msg[44] = wIndex & 0xff;
	msg[45] = wIndex >> 8;
	msg[46] = wLength & 0xff;
	msg[47] = wLength >> 8;
	if (out > 0)
		memcpy(msg + 48, data, out);
	int w = write_all(dev->fd, msg, 48 + out);
	free(msg);
	if (w != 0) {
		mark_gone(dev);
		return LIBUSB_ERROR_NO_DEVICE;
	}
	int unlinked = 0;
	uint32_t unlink_seq = 0;
	int wait = (int)timeout_ms;
	for (;;) {
		uint8_t h[48];
		int r = read_all(dev->fd, h, 48, unlinked ? UNLINK_WAIT_MS : wait);
		if (r == -2 && !unlinked) {
			/* No reply in time: cancel the URB (USBIP_CMD_UNLINK) and wait for the server's answer. */
			uint8_t u[48];
			memset(u, 0, sizeof(u));
			unlink_seq = ++dev->seq;
			put32(u, CMD_UNLINK);
			put32(u + 4, unlink_seq);
			put32(u + 8, devid);
			put32(u + 12, in ? 1 : 0);
			put32(u + 20, seq);
			DBG("URB %u timed out after %u ms: CMD_UNLINK %u\n", seq, timeout_ms, unlink_seq);
			if (write_all(dev->fd, u, sizeof(u)) != 0) {
				mark_gone(dev);
				return LIBUSB_ERROR_NO_DEVICE;
			}
			unlinked = 1;
			continue;
		}
		if (r == -2) {
			/* Not even the unlink was answered: the connection is of no further use. */
			mark_gone(dev);
			return LIBUSB_ERROR_TIMEOUT;
		}
		if (r != 0) {
			mark_gone(dev);
			return LIBUSB_ERROR_NO_DEVICE;
		}
		uint32_t cmd = get32(h), rseq = get32(h + 4);
		if (cmd == RET_UNLINK) {
			if (unlinked && rseq == unlink_seq) {
				dev->stale_seq = seq; /* its RET_SUBMIT, if the URB had completed, came before */
				dev->stale_in = in;
				return LIBUSB_ERROR_TIMEOUT;
			}
			continue;
		}
		if (cmd != RET_SUBMIT) {
			DBG("unexpected USB/IP reply 0x%08x\n", cmd);
			mark_gone(dev);
			return LIBUSB_ERROR_IO;
		}
		int32_t status = (int32_t)get32(h + 20);
		uint32_t actual = get32(h + 24);
		uint32_t npackets = get32(h + 32);
		size_t iso = npackets != 0xffffffff ? (size_t)npackets * 16 : 0;
		if (rseq != seq) {
			/* A late reply to an earlier, unlinked URB. */
			size_t skip = (rseq == dev->stale_seq && dev->stale_in ? actual : 0) + iso;
			if (discard(dev->fd, skip, UNLINK_WAIT_MS) != 0) {
				mark_gone(dev);
				return LIBUSB_ERROR_NO_DEVICE;
			}
			continue;
		}
		if (in && actual > 0) {
			uint8_t *buf = malloc(actual);
			if (buf == NULL)
				return LIBUSB_ERROR_NO_MEM;
			if (read_all(dev->fd, buf, actual, UNLINK_WAIT_MS) != 0) {
				free(buf);
				mark_gone(dev);
				return LIBUSB_ERROR_NO_DEVICE;
			}
			memcpy(data, buf, actual < wLength ? actual : wLength);
			free(buf);
		}
		if (iso > 0 && discard(dev->fd, iso, UNLINK_WAIT_MS) != 0) {
			mark_gone(dev);
			return LIBUSB_ERROR_NO_DEVICE;
		}
		if (unlinked) {
			/* Completed before the unlink reached it; the RET_UNLINK (status 0) follows: consume it. */
			uint8_t u[48];
			if (read_all(dev->fd, u, 48, UNLINK_WAIT_MS) != 0)
				mark_gone(dev);
		}
		DBG("%s URB %u %02x %02x %04x %04x len %u -> status %d, %u bytes\n", dev->busid, seq, bmRequestType, bRequest, wValue,
		    wIndex, wLength, status, actual);
		if (status != 0)
			return urb_status_to_libusb(status);
		if (in)
			return (int)(actual < wLength ? actual : wLength);
		return (int)actual;
	}
}

/* ---------------------------------------------------------------------------------------------------- */
/* Devices: list, import, reference counts */

static void free_device(struct libusb_device *dev)
{
	struct libusb_device **p;
	for (p = &registry; *p != NULL; p = &(*p)->next) {
		if (*p == dev) {
			*p = dev->next;
			break;
		}
	}
	mark_gone(dev);
	for (int i = 0; i < dev->nconfig; i++)
		free(dev->config[i]);
	free(dev);
}

/* True while the import connection is open (the server closes it when the device leaves the bus). */
static int still_attached(struct libusb_device *dev)
{
	if (dev->fd < 0)
		return 0;
	struct pollfd p = { .fd = dev->fd, .events = POLLIN };
	if (poll(&p, 1, 0) > 0) {
		uint8_t b;
		ssize_t r = recv(dev->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			mark_gone(dev);
			return 0;
		}
	}
	return 1;
}

static int read_descriptor(struct libusb_device *dev, uint8_t type, uint8_t index, uint8_t *buf, uint16_t len)
{
	return urb(dev, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, (uint16_t)(type << 8 | index), 0, buf, len, 5000);
}

static struct libusb_device *import_device(const char *busid)
{
	int fd = usbip_connect();
	if (fd < 0)
		return NULL;
	uint8_t req[40];
	memset(req, 0, sizeof(req));
	put16(req, USBIP_VERSION);
	put16(req + 2, OP_REQ_IMPORT);
	size_t bl = strnlen(busid, 31);
	memcpy(req + 8, busid, bl);
	uint8_t h[8], rec[DEVICE_RECORD];
	if (write_all(fd, req, sizeof(req)) != 0 || read_all(fd, h, 8, 5000) != 0 || get16(h + 2) != OP_REP_IMPORT) {
		close(fd);
		return NULL;
	}
	if (get32(h + 4) != 0 || read_all(fd, rec, DEVICE_RECORD, 5000) != 0) {
		DBG("import of %s refused (status %u)\n", busid, get32(h + 4));
		close(fd);
		return NULL;
	}
	struct libusb_device *dev = calloc(1, sizeof(*dev));
	if (dev == NULL) {
		close(fd);
		return NULL;
	}
	dev->fd = fd;
	memcpy(dev->busid, rec + 256, 31);
	dev->busnum = get32(rec + 288);
	dev->devnum = get32(rec + 292);
	dev->speed = get32(rec + 296);
	DBG("imported %s (bus %u device %u)\n", dev->busid, dev->busnum, dev->devnum);
	/* Enumerate through ep0, as vhci-hcd and the kernel's hub driver would. */
	if (read_descriptor(dev, LIBUSB_DT_DEVICE, 0, dev->devdesc, 18) != 18) {
		free_device(dev);
		return NULL;
	}
	int n = dev->devdesc[17] < MAX_CONFIGS ? dev->devdesc[17] : MAX_CONFIGS;
	for (int i = 0; i < n; i++) {
		uint8_t head[9];
		if (read_descriptor(dev, LIBUSB_DT_CONFIG, (uint8_t)i, head, 9) < 4)
			break;
		uint16_t total = le16(head + 2);
		uint8_t *full = malloc(total);
		if (full == NULL)
			break;
		int got = read_descriptor(dev, LIBUSB_DT_CONFIG, (uint8_t)i, full, total);
		if (got < 9) {
			free(full);
			break;
		}
		dev->config[i] = full;
		dev->configlen[i] = got;
		dev->nconfig = i + 1;
	}
	dev->next = registry;
	registry = dev;
	return dev;
}

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	(void)ctx;
	char busids[MAX_DEVICES][32];
	uint32_t devnums[MAX_DEVICES];
	int n = 0;
	int fd = usbip_connect();
	if (fd >= 0) {
		uint8_t req[8], h[12];
		memset(req, 0, sizeof(req));
		put16(req, USBIP_VERSION);
		put16(req + 2, OP_REQ_DEVLIST);
		if (write_all(fd, req, sizeof(req)) == 0 && read_all(fd, h, 12, 5000) == 0 && get16(h + 2) == OP_REP_DEVLIST && get32(h + 4) == 0) {
			uint32_t count = get32(h + 8);
			for (uint32_t i = 0; i < count; i++) {
				uint8_t rec[DEVICE_RECORD];
				if (read_all(fd, rec, DEVICE_RECORD, 5000) != 0 || discard(fd, 4u * rec[DEVICE_RECORD - 1], 5000) != 0)
					break;
				if (n < MAX_DEVICES) {
					memcpy(busids[n], rec + 256, 31);
					busids[n][31] = '\0';
					devnums[n] = get32(rec + 292);
					n++;
				}
			}
		}
		close(fd);
	}
	libusb_device **out = calloc((size_t)n + 1, sizeof(*out));
	if (out == NULL)
		return LIBUSB_ERROR_NO_MEM;
	int k = 0;
	for (int i = 0; i < n; i++) {
		struct libusb_device *dev = NULL;
		for (struct libusb_device *d = registry; d != NULL; d = d->next)
			if (strcmp(d->busid, busids[i]) == 0 && d->devnum == devnums[i] && still_attached(d))
				dev = d;
		if (dev == NULL)
			dev = import_device(busids[i]);
		if (dev == NULL)
			continue;
		dev->refcnt++;
		out[k++] = dev;
	}
	*list = out;
	DBG("device list: %d device(s)\n", k);
	return k;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device **list, int unref_devices)
{
	if (list == NULL)
		return;
	if (unref_devices)
		for (libusb_device **p = list; *p != NULL; p++)
			libusb_unref_device(*p);
	free(list);
}

libusb_device *LIBUSB_CALL libusb_ref_device(libusb_device *dev)
{
	dev->refcnt++;
	return dev;
}

void LIBUSB_CALL libusb_unref_device(libusb_device *dev)
{
	if (dev != NULL && --dev->refcnt <= 0)
		free_device(dev);
}

int LIBUSB_CALL libusb_get_device_descriptor(libusb_device *dev, struct libusb_device_descriptor *d)
{
	const uint8_t *r = dev->devdesc;
	d->bLength = r[0];
	d->bDescriptorType = r[1];
	d->bcdUSB = le16(r + 2);
	d->bDeviceClass = r[4];
	d->bDeviceSubClass = r[5];
	d->bDeviceProtocol = r[6];
	d->bMaxPacketSize0 = r[7];
	d->idVendor = le16(r + 8);
	d->idProduct = le16(r + 10);
	d->bcdDevice = le16(r + 12);
	d->iManufacturer = r[14];
	d->iProduct = r[15];
	d->iSerialNumber = r[16];
	d->bNumConfigurations = r[17];
	return 0;
}

uint8_t LIBUSB_CALL libusb_get_bus_number(libusb_device *dev) { return (uint8_t)dev->busnum; }
uint8_t LIBUSB_CALL libusb_get_device_address(libusb_device *dev) { return (uint8_t)dev->devnum; }
/* The kernel's enum usb_device_speed and libusb's enum libusb_speed agree for low/full/high/super. */
int LIBUSB_CALL libusb_get_device_speed(libusb_device *dev) { return (int)dev->speed; }
libusb_device *LIBUSB_CALL libusb_get_parent(libusb_device *dev) { (void)dev; return NULL; }

/* Ports from the busid: "1-1.2" is bus 1, ports 1 and 2. */
int LIBUSB_CALL libusb_get_port_numbers(libusb_device *dev, uint8_t *ports, int len)
{
	const char *p = strchr(dev->busid, '-');
	int n = 0;
	while (p != NULL && *p != '\0') {
		p++;
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		if (n >= len)
			return LIBUSB_ERROR_OVERFLOW;
		ports[n++] = (uint8_t)v;
		p = *end == '.' ? end : NULL;
	}
	return n;
}

int LIBUSB_CALL libusb_get_port_path(libusb_context *ctx, libusb_device *dev, uint8_t *path, uint8_t len)
{
	(void)ctx;
	return libusb_get_port_numbers(dev, path, len);
}

uint8_t LIBUSB_CALL libusb_get_port_number(libusb_device *dev)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, 8);
	return n > 0 ? ports[n - 1] : 0;
}

int LIBUSB_CALL libusb_get_max_packet_size(libusb_device *dev, unsigned char endpoint)
{
	(void)endpoint;
	return dev->devdesc[7];
}

int LIBUSB_CALL libusb_get_max_iso_packet_size(libusb_device *dev, unsigned char endpoint)
{
	(void)dev;
	(void)endpoint;
	return LIBUSB_ERROR_NOT_FOUND;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Configuration descriptors: raw bytes → libusb's tree */

static int append_extra(const unsigned char **extra, int *extra_length, const uint8_t *d, int len)
{
	unsigned char *e = realloc((void *)*extra, (size_t)*extra_length + (size_t)len);
	if (e == NULL)
		return -1;
	memcpy(e + *extra_length, d, (size_t)len);
	*extra = e;
	*extra_length += len;
	return 0;
}

void LIBUSB_CALL libusb_free_config_descriptor(struct libusb_config_descriptor *c)
{
	if (c == NULL)
		return;
	for (int i = 0; i < c->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &c->interface[i];
		for (int a = 0; a < itf->num_altsetting; a++) {
			const struct libusb_interface_descriptor *alt = &itf->altsetting[a];
			for (int e = 0; e < alt->bNumEndpoints; e++)
				free((void *)alt->endpoint[e].extra);
			free((void *)alt->endpoint);
			free((void *)alt->extra);
		}
		free((void *)itf->altsetting);
	}
	free((void *)c->interface);
	free((void *)c->extra);
	free(c);
}

static int parse_config(const uint8_t *raw, int len, struct libusb_config_descriptor **out)
{
	if (len < 9 || raw[1] != LIBUSB_DT_CONFIG)
		return LIBUSB_ERROR_IO;
	struct libusb_config_descriptor *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return LIBUSB_ERROR_NO_MEM;
	c->bLength = raw[0];
	c->bDescriptorType = raw[1];
	c->wTotalLength = le16(raw + 2);
	c->bConfigurationValue = raw[5];
	c->iConfiguration = raw[6];
	c->bmAttributes = raw[7];
	c->MaxPower = raw[8];
	struct libusb_interface *ifs = NULL;
	int nifs = 0;
	struct libusb_interface_descriptor *alt = NULL;
	struct libusb_endpoint_descriptor *ep = NULL;
	int off = raw[0];
	while (off + 2 <= len) {
		int l = raw[off], t = raw[off + 1];
		if (l < 2 || off + l > len)
			break;
		const uint8_t *d = raw + off;
		if (t == LIBUSB_DT_INTERFACE && l >= 9) {
			int k;
			for (k = 0; k < nifs; k++)
				if (ifs[k].altsetting[0].bInterfaceNumber == d[2])
					break;
			if (k == nifs) {
				struct libusb_interface *n = realloc(ifs, sizeof(*ifs) * (size_t)(nifs + 1));
				if (n == NULL)
					goto nomem;
				ifs = n;
				memset(&ifs[nifs], 0, sizeof(ifs[nifs]));
				nifs++;
				c->interface = ifs;
				c->bNumInterfaces = (uint8_t)nifs;
			}
			struct libusb_interface_descriptor *alts = realloc((void *)ifs[k].altsetting, sizeof(*alts) * (size_t)(ifs[k].num_altsetting + 1));
			if (alts == NULL)
				goto nomem;
			ifs[k].altsetting = alts;
			alt = &alts[ifs[k].num_altsetting++];
			memset(alt, 0, sizeof(*alt));
			alt->bLength = d[0];
			alt->bDescriptorType = d[1];
			alt->bInterfaceNumber = d[2];
			alt->bAlternateSetting = d[3];
			alt->bNumEndpoints = 0; /* counted as endpoint descriptors follow */
			alt->bInterfaceClass = d[5];
			alt->bInterfaceSubClass = d[6];
			alt->bInterfaceProtocol = d[7];
			alt->iInterface = d[8];
			ep = NULL;
		} else if (t == LIBUSB_DT_ENDPOINT && l >= 7 && alt != NULL) {
			struct libusb_endpoint_descriptor *eps = realloc((void *)alt->endpoint, sizeof(*eps) * (size_t)(alt->bNumEndpoints + 1));
			if (eps == NULL)
				goto nomem;
			alt->endpoint = eps;
			ep = &eps[alt->bNumEndpoints++];
			memset(ep, 0, sizeof(*ep));
			ep->bLength = d[0];
			ep->bDescriptorType = d[1];
			ep->bEndpointAddress = d[2];
			ep->bmAttributes = d[3];
			ep->wMaxPacketSize = le16(d + 4);
			ep->bInterval = d[6];
			if (l >= 9) {
				ep->bRefresh = d[7];
				ep->bSynchAddress = d[8];
			}
		} else {
			/* Class- and vendor-specific descriptors belong to what precedes them (libusb: `extra`). */
			int r = ep != NULL ? append_extra(&ep->extra, &ep->extra_length, d, l)
			      : alt != NULL ? append_extra(&alt->extra, &alt->extra_length, d, l)
					    : append_extra(&c->extra, &c->extra_length, d, l);
			if (r != 0)
				goto nomem;
		}
		off += l;
	}
	*out = c;
	return 0;
nomem:
	libusb_free_config_descriptor(c);
	return LIBUSB_ERROR_NO_MEM;
}

int LIBUSB_CALL libusb_get_config_descriptor(libusb_device *dev, uint8_t index, struct libusb_config_descriptor **config)
{
	if (index >= dev->nconfig)
		return LIBUSB_ERROR_NOT_FOUND;
	return parse_config(dev->config[index], dev->configlen[index], config);
}

int LIBUSB_CALL libusb_get_active_config_descriptor(libusb_device *dev, struct libusb_config_descriptor **config)
{
	return libusb_get_config_descriptor(dev, 0, config);
}

int LIBUSB_CALL libusb_get_config_descriptor_by_value(libusb_device *dev, uint8_t value, struct libusb_config_descriptor **config)
{
	for (int i = 0; i < dev->nconfig; i++)
		if (dev->config[i][5] == value)
			return libusb_get_config_descriptor(dev, (uint8_t)i, config);
	return LIBUSB_ERROR_NOT_FOUND;
}

/* ---------------------------------------------------------------------------------------------------- */
/* Handles and transfers */

int LIBUSB_CALL libusb_open(libusb_device *dev, libusb_device_handle **handle)
{
	if (dev->fd < 0)
		return LIBUSB_ERROR_NO_DEVICE;
	libusb_device_handle *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	*handle = h;
	return 0;
}

void LIBUSB_CALL libusb_close(libusb_device_handle *h)
{
	if (h == NULL)
		return;
	libusb_unref_device(h->dev);
	free(h);
}

libusb_device *LIBUSB_CALL libusb_get_device(libusb_device_handle *h) { return h->dev; }

libusb_device_handle *LIBUSB_CALL libusb_open_device_with_vid_pid(libusb_context *ctx, uint16_t vid, uint16_t pid)
{
	libusb_device **list;
	libusb_device_handle *h = NULL;
	if (libusb_get_device_list(ctx, &list) < 0)
		return NULL;
	for (libusb_device **p = list; *p != NULL && h == NULL; p++) {
		struct libusb_device_descriptor d;
		libusb_get_device_descriptor(*p, &d);
		if (d.idVendor == vid && d.idProduct == pid && libusb_open(*p, &h) != 0)
			h = NULL;
	}
	libusb_free_device_list(list, 1);
	return h;
}

int LIBUSB_CALL libusb_control_transfer(libusb_device_handle *h, uint8_t bmRequestType, uint8_t bRequest, uint16_t wValue,
					uint16_t wIndex, unsigned char *data, uint16_t wLength, unsigned int timeout)
{
	return urb(h->dev, bmRequestType, bRequest, wValue, wIndex, data, wLength, timeout);
}

int LIBUSB_CALL libusb_set_interface_alt_setting(libusb_device_handle *h, int interface_number, int alternate_setting)
{
	int r = urb(h->dev, 0x01, LIBUSB_REQUEST_SET_INTERFACE, (uint16_t)alternate_setting, (uint16_t)interface_number, NULL, 0, 5000);
	return r < 0 ? (r == LIBUSB_ERROR_PIPE ? LIBUSB_ERROR_NOT_FOUND : r) : 0;
}

int LIBUSB_CALL libusb_set_configuration(libusb_device_handle *h, int configuration)
{
	int r = urb(h->dev, 0x00, LIBUSB_REQUEST_SET_CONFIGURATION, (uint16_t)(configuration < 0 ? 0 : configuration), 0, NULL, 0, 5000);
	return r < 0 ? r : 0;
}

int LIBUSB_CALL libusb_get_configuration(libusb_device_handle *h, int *config)
{
	unsigned char b = 0;
	int r = urb(h->dev, 0x80, LIBUSB_REQUEST_GET_CONFIGURATION, 0, 0, &b, 1, 5000);
	if (r < 0)
		return r;
	*config = r == 1 ? b : 0;
	return 0;
}

int LIBUSB_CALL libusb_claim_interface(libusb_device_handle *h, int interface_number)
{
	(void)interface_number;
	return h->dev->fd < 0 ? LIBUSB_ERROR_NO_DEVICE : 0;
}

int LIBUSB_CALL libusb_release_interface(libusb_device_handle *h, int interface_number)
{
	(void)h;
	(void)interface_number;
	return 0;
}

int LIBUSB_CALL libusb_reset_device(libusb_device_handle *h)
{
	int r = urb(h->dev, 0x23, LIBUSB_REQUEST_SET_FEATURE, 4 /* PORT_RESET */, 0, NULL, 0, 5000);
	if (r == LIBUSB_ERROR_NO_DEVICE)
		return LIBUSB_ERROR_NOT_FOUND; /* gone: it re-enumerates, the caller lists devices again */
	return r < 0 ? r : 0;
}

int LIBUSB_CALL libusb_clear_halt(libusb_device_handle *h, unsigned char endpoint)
{
	int r = urb(h->dev, 0x02, LIBUSB_REQUEST_CLEAR_FEATURE, 0 /* ENDPOINT_HALT */, endpoint, NULL, 0, 5000);
	return r < 0 ? r : 0;
}

int LIBUSB_CALL libusb_get_string_descriptor_ascii(libusb_device_handle *h, uint8_t index, unsigned char *data, int length)
{
	unsigned char buf[255];
	if (index == 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	int r = urb(h->dev, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_STRING << 8, 0, buf, sizeof(buf), 1000);
	if (r < 0)
		return r;
	if (r < 4)
		return LIBUSB_ERROR_IO;
	uint16_t langid = le16(buf + 2);
	r = urb(h->dev, 0x80, LIBUSB_REQUEST_GET_DESCRIPTOR, (uint16_t)(LIBUSB_DT_STRING << 8 | index), langid, buf, sizeof(buf), 1000);
	if (r < 0)
		return r;
	if (r < 2 || buf[1] != LIBUSB_DT_STRING)
		return LIBUSB_ERROR_IO;
	int n = buf[0] < r ? buf[0] : r, di = 0;
	for (int si = 2; si + 1 < n && di < length - 1; si += 2)
		data[di++] = buf[si + 1] != 0 ? '?' : buf[si];
	data[di] = '\0';
	return di;
}

int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle *h, int interface_number)
{
	(void)h;
	(void)interface_number;
	return 0;
}

int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle *h, int interface_number)
{
	(void)h;
	(void)interface_number;
	return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_attach_kernel_driver(libusb_device_handle *h, int interface_number)
{
	(void)h;
	(void)interface_number;
	return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_set_auto_detach_kernel_driver(libusb_device_handle *h, int enable)
{
	(void)h;
	(void)enable;
	return 0;
}

/* Endpoint 0 is all this device has: bulk, interrupt and the asynchronous API are not supported. */
int LIBUSB_CALL libusb_bulk_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int length, int *transferred, unsigned int timeout)
{
	(void)h; (void)ep; (void)data; (void)length; (void)timeout;
	if (transferred != NULL)
		*transferred = 0;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_interrupt_transfer(libusb_device_handle *h, unsigned char ep, unsigned char *data, int length, int *transferred, unsigned int timeout)
{
	return libusb_bulk_transfer(h, ep, data, length, transferred, timeout);
}

struct libusb_transfer *LIBUSB_CALL libusb_alloc_transfer(int iso_packets)
{
	if (iso_packets < 0)
		return NULL;
	return calloc(1, sizeof(struct libusb_transfer) + sizeof(struct libusb_iso_packet_descriptor) * (size_t)iso_packets);
}

void LIBUSB_CALL libusb_free_transfer(struct libusb_transfer *t)
{
	if (t == NULL)
		return;
	if (t->flags & LIBUSB_TRANSFER_FREE_BUFFER)
		free(t->buffer);
	free(t);
}

int LIBUSB_CALL libusb_submit_transfer(struct libusb_transfer *t)
{
	(void)t;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_cancel_transfer(struct libusb_transfer *t)
{
	(void)t;
	return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_handle_events(libusb_context *ctx) { (void)ctx; return 0; }
int LIBUSB_CALL libusb_handle_events_completed(libusb_context *ctx, int *completed) { (void)ctx; (void)completed; return 0; }
int LIBUSB_CALL libusb_handle_events_timeout(libusb_context *ctx, struct timeval *tv) { (void)ctx; (void)tv; return 0; }
int LIBUSB_CALL libusb_handle_events_timeout_completed(libusb_context *ctx, struct timeval *tv, int *completed) { (void)ctx; (void)tv; (void)completed; return 0; }

/* ---------------------------------------------------------------------------------------------------- */
/* Library */

int LIBUSB_CALL libusb_init(libusb_context **ctx)
{
	if (ctx != NULL) {
		*ctx = calloc(1, sizeof(**ctx));
		if (*ctx == NULL)
			return LIBUSB_ERROR_NO_MEM;
	}
	return 0;
}

void LIBUSB_CALL libusb_exit(libusb_context *ctx)
{
	free(ctx);
}

void LIBUSB_CALL libusb_set_debug(libusb_context *ctx, int level)
{
	(void)ctx;
	(void)level;
}

int LIBUSB_CALL libusb_set_option(libusb_context *ctx, enum libusb_option option, ...)
{
	(void)ctx;
	(void)option;
	return 0;
}

int LIBUSB_CALL libusb_has_capability(uint32_t capability)
{
	return capability == LIBUSB_CAP_HAS_CAPABILITY;
}

int LIBUSB_CALL libusb_setlocale(const char *locale)
{
	(void)locale;
	return 0;
}

const struct libusb_version *LIBUSB_CALL libusb_get_version(void)
{
	static const struct libusb_version v = { 1, 0, 26, 0, "-usbip", "dfukit test-peers/libusb-usbip: libusb API over USB/IP" };
	return &v;
}

static const char *error_text(int code, int name)
{
	switch (code) {
	case LIBUSB_SUCCESS: return name ? "LIBUSB_SUCCESS" : "Success";
	case LIBUSB_ERROR_IO: return name ? "LIBUSB_ERROR_IO" : "Input/Output Error";
	case LIBUSB_ERROR_INVALID_PARAM: return name ? "LIBUSB_ERROR_INVALID_PARAM" : "Invalid parameter";
	case LIBUSB_ERROR_ACCESS: return name ? "LIBUSB_ERROR_ACCESS" : "Access denied (insufficient permissions)";
	case LIBUSB_ERROR_NO_DEVICE: return name ? "LIBUSB_ERROR_NO_DEVICE" : "No such device (it may have been disconnected)";
	case LIBUSB_ERROR_NOT_FOUND: return name ? "LIBUSB_ERROR_NOT_FOUND" : "Entity not found";
	case LIBUSB_ERROR_BUSY: return name ? "LIBUSB_ERROR_BUSY" : "Resource busy";
	case LIBUSB_ERROR_TIMEOUT: return name ? "LIBUSB_ERROR_TIMEOUT" : "Operation timed out";
	case LIBUSB_ERROR_OVERFLOW: return name ? "LIBUSB_ERROR_OVERFLOW" : "Overflow";
	case LIBUSB_ERROR_PIPE: return name ? "LIBUSB_ERROR_PIPE" : "Pipe error";
	case LIBUSB_ERROR_INTERRUPTED: return name ? "LIBUSB_ERROR_INTERRUPTED" : "System call interrupted (perhaps due to signal)";
	case LIBUSB_ERROR_NO_MEM: return name ? "LIBUSB_ERROR_NO_MEM" : "Insufficient memory";
	case LIBUSB_ERROR_NOT_SUPPORTED: return name ? "LIBUSB_ERROR_NOT_SUPPORTED" : "Operation not supported or unimplemented on this platform";
	default: return name ? "LIBUSB_ERROR_OTHER" : "Other error";
	}
}

const char *LIBUSB_CALL libusb_error_name(int code) { return error_text(code, 1); }
const char *LIBUSB_CALL libusb_strerror(int code) { return error_text(code, 0); }
