/* broken-module.c - a shared object that is not a wspulsed module (no
 * wsp_module_init): loading it must stop start-up with its name. */
int not_a_module(void);
int not_a_module(void)
{
	return 42;
}
