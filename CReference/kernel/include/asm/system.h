/* Stand-in for the kernel header <asm/system.h>: empty; the stand-in kernel environment (skbk_env.h,
 * included before the tree's code) declares what the tree's skbuff code needs. */
